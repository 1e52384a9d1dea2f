# Settings shared by the three AEX jobs, for `nomad job run -var-file=deploy/nomad/aex.vars.hcl`.
# Copy and edit it per cluster. Only variables every job declares belong here: Nomad
# refuses a var-file that sets a variable the job does not declare (hashicorp/nomad#16136).
# Per-job knobs (core_count, edge_count, edge_port, cache_size_mb, worker_min, worker_max)
# go on the command line: -var edge_count=3. Secrets never go here: README.md.

image       = "ghcr.io/aex/aex"
version     = "0.1.0"
datacenters = ["dc1"]
log_level   = "info"

# The URL users reach AEX at (Caddy's site): the built-in issuer's `iss`, the web login's
# redirect base.
public_url = "https://photos.example.com"

s3_bucket   = "aex"
s3_endpoint = "https://minio.service.internal:9000"
s3_region   = "us-east-1"
