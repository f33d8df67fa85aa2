"""AWS plumbing: the one `Aws` client, its errors, retries, endpoints and credentials."""
