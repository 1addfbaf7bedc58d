"""Operating the platform on a centre's own servers: backups that restore, and the deployment's templates."""
