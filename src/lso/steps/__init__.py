"""Pipeline steps, one module per kind of job: what ``workflow_scripts`` call; nothing else
imports them."""
