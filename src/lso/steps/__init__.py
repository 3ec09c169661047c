"""Pipeline steps, one module per kind of job: what ``workflow_scripts`` call, and nothing else imports."""
