# AEX edge (`aex serve edge`): thumbnails and previews from a local disk cache with S3 as
# origin, and the /api proxy to core. Stateless apart from that cache; Caddy (the root
# Caddyfile) or a CDN sends traffic to every edge. How to run it: README.md.

variable "image" {
  type        = string
  default     = "ghcr.io/aex/aex"
  description = "Image holding the AEX repository and its node_modules (README.md)."
}

variable "version" {
  type        = string
  description = "Image tag to deploy; a new tag is a rolling deploy."
}

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

variable "s3_bucket" {
  type = string
}

variable "s3_endpoint" {
  type        = string
  description = "S3 API URL, e.g. https://minio.internal:9000 or https://s3.eu-west-1.amazonaws.com"
}

variable "s3_region" {
  type    = string
  default = "us-east-1"
}

variable "log_level" {
  type    = string
  default = "info"
}

variable "public_url" {
  type        = string
  description = "The URL users reach AEX at (Caddy's site), e.g. https://photos.example.com."
}

variable "edge_count" {
  type    = number
  default = 2
}

variable "edge_port" {
  type        = number
  default     = 8080
  description = "Host port of every edge: the upstream address Caddy or the CDN is given."
}

variable "cache_size_mb" {
  type        = number
  default     = 1024
  description = "Thumbnail cache cap (AEX_CACHE_MAX_BYTES); the disk reserved is a bit more."
}

job "aex-edge" {
  datacenters = var.datacenters
  type        = "service"

  # The port is static, so a new edge can only take the place of an old one: no canary.
  # One edge at a time is stopped, replaced and checked while the others serve (Caddy's
  # health checks route around it); a deploy that does not become healthy rolls back.
  update {
    max_parallel      = 1
    health_check      = "checks"
    min_healthy_time  = "10s"
    healthy_deadline  = "3m"
    progress_deadline = "10m"
    auto_revert       = true
  }

  group "edge" {
    count = var.edge_count

    # A static host port gives the front proxy fixed upstreams (host:edge_port) and keeps
    # two edges off one host.
    network {
      port "http" {
        static = var.edge_port
        to     = 8080 # PORT's default, inside the container
      }
    }

    shutdown_delay = "5s"

    # The thumbnail cache lives in the allocation's data dir: its cap plus room for logs
    # and files being written. Sticky keeps it across deploys on the same host; it is not
    # migrated, since refilling from S3 is cheaper than copying gigabytes between hosts.
    ephemeral_disk {
      size    = var.cache_size_mb + 512
      sticky  = true
      migrate = false
    }

    service {
      name     = "aex-edge"
      provider = "nomad"
      port     = "http"
      # The task check_restart restarts (a group service's checks otherwise restart the
      # whole allocation).
      task     = "edge"

      check {
        name     = "edge-live"
        type     = "http"
        path     = "/healthz"
        interval = "5s"
        timeout  = "2s"

        check_restart {
          limit = 3
          grace = "20s"
        }
      }
    }

    task "edge" {
      driver = "docker"

      config {
        image   = "${var.image}:${var.version}"
        command = "bun"
        args    = ["core/bin/aex.ts", "serve", "edge"]
        ports   = ["http"]
      }

      kill_signal  = "SIGTERM"
      kill_timeout = "20s"

      env {
        LOG_LEVEL           = var.log_level
        AEX_DATA_DIR        = "${NOMAD_ALLOC_DIR}/data"
        AEX_CACHE_DIR       = "${NOMAD_ALLOC_DIR}/data/thumbnails"
        AEX_CACHE_MAX_BYTES = "${var.cache_size_mb}M"
        S3_BUCKET           = var.s3_bucket
        S3_ENDPOINT         = var.s3_endpoint
        S3_REGION           = var.s3_region
        AEX_PUBLIC_URL      = var.public_url
        # Behind Caddy (or any load balancer): the client is the first X-Forwarded-For entry.
        AEX_TRUST_PROXY     = "true"
      }

      # CORE_URL is one address, so each edge picks one core replica by rendezvous hashing
      # on its allocation id: the edges spread over the cores, and when a core goes away only
      # the edges that used it re-render and restart (splayed). With no core registered
      # yet the URL names a host that never resolves (RFC 2606 .invalid): /api answers 503
      # `unavailable` and the log names that host, instead of a silent CORE_URL default.
      template {
        destination = "local/core.env"
        env         = true
        change_mode = "restart"
        splay       = "10s"
        data        = <<-EOT
          {{ range nomadService 1 (env "NOMAD_ALLOC_ID") "aex-core" -}}
          CORE_URL=http://{{ .Address }}:{{ .Port }}
          {{ else -}}
          CORE_URL=http://aex-core-not-registered.invalid
          {{ end -}}
        EOT
      }

      template {
        destination = "secrets/aex.env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/aex-edge" -}}
          S3_ACCESS_KEY_ID={{ .S3_ACCESS_KEY_ID }}
          S3_SECRET_ACCESS_KEY={{ .S3_SECRET_ACCESS_KEY }}
          AEX_URL_SIGNING_KEY={{ .AEX_URL_SIGNING_KEY }}
          AEX_NATS_WS_URL={{ .AEX_NATS_WS_URL }}
          {{- end }}
        EOT
      }

      resources {
        cpu    = 1000
        memory = 512
      }
    }
  }
}
