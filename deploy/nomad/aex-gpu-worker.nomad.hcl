# AEX GPU worker (`aex serve worker`): durable JetStream consumers running ONNX Runtime on
# one GPU each. All workers of a task share one durable consumer, so adding allocations
# adds throughput. How to run it: README.md.

variable "image" {
  type        = string
  default     = "ghcr.io/aex/aex"
  description = "Image holding the AEX repository, its node_modules and the CUDA libraries (README.md)."
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

# Set by the shared var-file for core and the edges; workers have no use for it, but Nomad
# refuses a var-file that sets a variable the job does not declare (hashicorp/nomad#16136).
variable "public_url" {
  type    = string
  default = ""
}

variable "log_level" {
  type    = string
  default = "info"
}

variable "worker_min" {
  type    = number
  default = 1
}

variable "worker_max" {
  type        = number
  default     = 8
  description = "Most workers the autoscaler may run: at most the GPUs in the cluster."
}

job "aex-gpu-worker" {
  datacenters = var.datacenters
  type        = "service"

  # No canary: it would need a spare GPU. One worker at a time is drained and replaced;
  # the others keep consuming, and JetStream redelivers anything not acked. The first
  # start on a host may download models, hence the long deadlines.
  update {
    max_parallel      = 1
    health_check      = "checks"
    min_healthy_time  = "30s"
    healthy_deadline  = "15m"
    progress_deadline = "30m"
    auto_revert       = true
  }

  group "worker" {
    count = var.worker_min

    # `nomad job scale aex-gpu-worker worker <n>` by hand, or the Nomad Autoscaler with
    # the policy below: it scales on the backlog of the tags consumer, as
    # prometheus-nats-exporter (-jsz=consumers) reports it to Prometheus.
    scaling {
      enabled = true
      min     = var.worker_min
      max     = var.worker_max

      policy {
        cooldown            = "3m"
        evaluation_interval = "30s"

        check "tags_backlog" {
          source = "prometheus"
          query  = "sum(jetstream_consumer_num_pending{consumer_name=\"worker-tags\"})"

          strategy "target-value" {
            target = 500
          }
        }
      }
    }

    network {
      port "health" {
        to = 8082 # WORKER_PORT's default
      }
    }

    # Models are downloaded once per host: every worker on a host mounts the same
    # directory (the client's host_volume "aex-models", README.md).
    volume "models" {
      type      = "host"
      source    = "aex-models"
      read_only = false
    }

    service {
      name     = "aex-gpu-worker"
      provider = "nomad"
      port     = "health"
      # The task check_restart restarts (a group service's checks otherwise restart the
      # whole allocation).
      task     = "worker"

      check {
        name     = "worker-live"
        type     = "http"
        path     = "/"
        interval = "10s"
        timeout  = "2s"

        check_restart {
          limit = 3
          grace = "10m" # the port answers once models are loaded: a first download counts
        }
      }
    }

    task "worker" {
      driver = "docker"

      config {
        image   = "${var.image}:${var.version}"
        command = "bun"
        args    = ["core/bin/aex.ts", "serve", "worker"]
        ports   = ["health"]
      }

      # On SIGTERM the worker stops fetching, finishes and acks the jobs in flight, then
      # unloads its models. A job not acked by then is redelivered to another worker after
      # its ack wait (60 s), so this only has to cover one batch. Nomad caps it at the
      # client's max_kill_timeout (default 30s): raise that to 120s on GPU clients.
      kill_signal  = "SIGTERM"
      kill_timeout = "90s"

      volume_mount {
        volume      = "models"
        destination = "/models"
      }

      env {
        LOG_LEVEL               = var.log_level
        AEX_DATA_DIR            = "${NOMAD_ALLOC_DIR}/data"
        AEX_MODEL_DIR           = "/models"
        AEX_EXECUTION_PROVIDERS = "tensorrt,cuda,cpu"
        AEX_WORKER_TASKS        = "all"
        AEX_WORKER_CONCURRENCY  = "4"
        S3_BUCKET               = var.s3_bucket
        S3_ENDPOINT             = var.s3_endpoint
        S3_REGION               = var.s3_region
      }

      template {
        destination = "secrets/aex.env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/aex-gpu-worker" -}}
          NATS_URL={{ .NATS_URL }}
          S3_ACCESS_KEY_ID={{ .S3_ACCESS_KEY_ID }}
          S3_SECRET_ACCESS_KEY={{ .S3_SECRET_ACCESS_KEY }}
          {{- end }}
        EOT
      }

      resources {
        cpu    = 4000
        memory = 8192

        # One GPU per worker (nomad-device-nvidia plugin); more GPUs, more workers.
        device "nvidia/gpu" {
          count = 1
        }
      }
    }
  }
}
