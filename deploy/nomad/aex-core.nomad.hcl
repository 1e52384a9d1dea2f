# AEX core (`aex serve core`): the API, ingestion, the outbox relay and the result
# consumers. It keeps no state of its own (Postgres, S3 and JetStream hold it), so it runs
# as several replicas and is replaced one at a time. How to run it: README.md.

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
  description = "The URL users reach AEX at (Caddy's site), e.g. https://photos.example.com: the built-in issuer's iss."
}

variable "core_count" {
  type    = number
  default = 2
}

job "aex-core" {
  datacenters = var.datacenters
  type        = "service"

  # Zero-downtime deploys: a canary starts beside the old replicas and is promoted only
  # once its checks pass (readiness included, so a core that cannot reach Postgres never
  # replaces one that can); then the rest roll one at a time. A deploy that never becomes
  # healthy rolls back to the last good version by itself.
  update {
    max_parallel      = 1
    canary            = 1
    auto_promote      = true
    health_check      = "checks"
    min_healthy_time  = "10s"
    healthy_deadline  = "3m"
    progress_deadline = "10m"
    auto_revert       = true
  }

  group "core" {
    count = var.core_count

    network {
      port "http" {
        to = 8081 # CORE_PORT's default; Nomad maps a dynamic host port onto it
      }
    }

    # Deregister first, signal later: edges stop picking this replica before it stops
    # accepting requests.
    shutdown_delay = "5s"

    # Uploads are spooled to $AEX_DATA_DIR/tmp while they are hashed (up to
    # AEX_MAX_UPLOAD_BYTES each), so a few concurrent ones need room.
    ephemeral_disk {
      size = 4096
    }

    service {
      name     = "aex-core"
      provider = "nomad"
      port     = "http"
      # The task check_restart restarts (a group service's checks otherwise restart the
      # whole allocation).
      task     = "core"

      # Liveness: a process that stops answering is restarted.
      check {
        name     = "core-live"
        type     = "http"
        path     = "/healthz"
        interval = "10s"
        timeout  = "2s"

        check_restart {
          limit = 3
          grace = "30s"
        }
      }

      # Readiness: /readyz is a 503 problem while the database is unreachable; it gates
      # deployments (update.health_check = "checks") without restarting the task.
      check {
        name     = "core-ready"
        type     = "http"
        path     = "/readyz"
        interval = "5s"
        timeout  = "3s"
      }
    }

    task "core" {
      driver = "docker"

      config {
        image   = "${var.image}:${var.version}"
        command = "bun"
        args    = ["core/bin/aex.ts", "serve", "core"]
        ports   = ["http"]
      }

      # On SIGTERM core stops accepting, lets requests in flight finish, stops its
      # consumers and the outbox relay, then closes the database.
      kill_signal  = "SIGTERM"
      kill_timeout = "30s"

      env {
        LOG_LEVEL    = var.log_level
        AEX_DATA_DIR = "${NOMAD_ALLOC_DIR}/data"
        # availableParallelism() sees every core of the host, not this task's CPU share;
        # each decode holds a full image in memory, so bound it to fit `memory` below.
        AEX_DECODE_CONCURRENCY = "2"
        S3_BUCKET              = var.s3_bucket
        S3_ENDPOINT            = var.s3_endpoint
        S3_REGION              = var.s3_region
        AEX_PUBLIC_URL         = var.public_url
      }

      # Secrets from the Nomad Variable the job's workload identity may read
      # (README.md: `nomad var put nomad/jobs/aex-core …`). Rendering waits until it exists,
      # so core never starts on its embedded defaults by mistake.
      template {
        destination = "secrets/aex.env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/aex-core" -}}
          DATABASE_URL={{ .DATABASE_URL }}
          NATS_URL={{ .NATS_URL }}
          S3_ACCESS_KEY_ID={{ .S3_ACCESS_KEY_ID }}
          S3_SECRET_ACCESS_KEY={{ .S3_SECRET_ACCESS_KEY }}
          AEX_URL_SIGNING_KEY={{ .AEX_URL_SIGNING_KEY }}
          {{- end }}
        EOT
      }

      resources {
        cpu    = 2000
        memory = 2048
      }
    }
  }
}
