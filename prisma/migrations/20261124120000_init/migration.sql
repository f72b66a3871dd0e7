-- CreateTable
CREATE TABLE "agent_types" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "language" TEXT,
    "base_image" TEXT,
    "internal_port" INTEGER,
    "health_endpoint" TEXT,
    "min_memory" TEXT,
    "min_cpu" TEXT,
    "config_template" TEXT,
    "env_vars" TEXT,
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) DEFAULT CURRENT_TIMESTAMP,
    "version" TEXT NOT NULL DEFAULT '0',
    "status" TEXT NOT NULL DEFAULT 'planned',
    "manifest" JSONB NOT NULL DEFAULT '{}',
    "operator_overrides" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "agent_types_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "llm_providers" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "env_key" TEXT,
    "base_url" TEXT,
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "key_pattern" TEXT NOT NULL DEFAULT '',
    "key_hint" TEXT NOT NULL DEFAULT '',
    "requires_base_url" BOOLEAN NOT NULL DEFAULT false,
    "operator_overrides" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "llm_providers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "customers" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "agent_type_id" TEXT,
    "llm_provider_id" TEXT,
    "custom_config" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "customers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "slots" (
    "id" UUID NOT NULL,
    "customer_id" UUID NOT NULL,
    "plan" TEXT NOT NULL DEFAULT 'base',
    "addon_memory" BOOLEAN NOT NULL DEFAULT false,
    "addon_cpu" BOOLEAN NOT NULL DEFAULT false,
    "addon_priority_support" BOOLEAN NOT NULL DEFAULT false,
    "memory_mb" INTEGER NOT NULL,
    "cpu_millis" INTEGER NOT NULL,
    "desired_agent_type_id" TEXT NOT NULL,
    "desired_llm_provider_id" TEXT NOT NULL,
    "llm_base_url" TEXT,
    "config" JSONB NOT NULL DEFAULT '{}',
    "current_agent_type_id" TEXT,
    "current_agent_version" TEXT,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "state_reason" TEXT,
    "node_id" UUID,
    "published_ports" JSONB NOT NULL DEFAULT '[]',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "terminated_at" TIMESTAMPTZ(3),

    CONSTRAINT "slots_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "deployments" (
    "id" UUID NOT NULL,
    "slot_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "desired_spec" JSONB NOT NULL DEFAULT '{}',
    "node_id" UUID,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "idempotency_key" TEXT NOT NULL,
    "error" TEXT,
    "reserved_memory_mb" INTEGER NOT NULL DEFAULT 0,
    "reserved_cpu_millis" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "deployments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "deployment_events" (
    "id" BIGSERIAL NOT NULL,
    "deployment_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "data" JSONB,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "deployment_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "nodes" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'up',
    "allocatable_memory_mb" INTEGER NOT NULL DEFAULT 0,
    "allocatable_cpu_millis" INTEGER NOT NULL DEFAULT 0,
    "allocated_memory_mb" INTEGER NOT NULL DEFAULT 0,
    "allocated_cpu_millis" INTEGER NOT NULL DEFAULT 0,
    "port_range_from" INTEGER NOT NULL DEFAULT 20000,
    "port_range_to" INTEGER NOT NULL DEFAULT 29999,
    "public_host" TEXT,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "reported" JSONB NOT NULL DEFAULT '{}',
    "last_heartbeat_at" TIMESTAMPTZ(3),
    "cert_fingerprint" TEXT,
    "credential_hash" TEXT,
    "agent_version" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "nodes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "node_join_tokens" (
    "id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "description" TEXT,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "used_by_node_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "node_join_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "port_allocations" (
    "id" UUID NOT NULL,
    "node_id" UUID NOT NULL,
    "host_port" INTEGER NOT NULL,
    "slot_id" UUID,
    "port_name" TEXT NOT NULL,
    "container_port" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "port_allocations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "secrets" (
    "id" UUID NOT NULL,
    "customer_id" UUID NOT NULL,
    "slot_id" UUID,
    "kind" TEXT NOT NULL,
    "ciphertext" BYTEA NOT NULL,
    "iv" BYTEA NOT NULL,
    "tag" BYTEA NOT NULL,
    "key_hint" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "secrets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" UUID NOT NULL,
    "customer_id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target_type" TEXT,
    "target_id" TEXT,
    "ip" TEXT,
    "data" JSONB,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "customers_email_key" ON "customers"("email");

-- CreateIndex
CREATE INDEX "slots_customer_id_idx" ON "slots"("customer_id");

-- CreateIndex
CREATE INDEX "slots_node_id_idx" ON "slots"("node_id");

-- CreateIndex
CREATE INDEX "slots_state_idx" ON "slots"("state");

-- CreateIndex
CREATE UNIQUE INDEX "deployments_idempotency_key_key" ON "deployments"("idempotency_key");

-- CreateIndex
CREATE INDEX "deployments_slot_id_created_at_idx" ON "deployments"("slot_id", "created_at");

-- CreateIndex
CREATE INDEX "deployments_status_idx" ON "deployments"("status");

-- CreateIndex
CREATE UNIQUE INDEX "deployment_events_deployment_id_seq_key" ON "deployment_events"("deployment_id", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "nodes_name_key" ON "nodes"("name");

-- CreateIndex
CREATE INDEX "nodes_status_idx" ON "nodes"("status");

-- CreateIndex
CREATE UNIQUE INDEX "node_join_tokens_token_hash_key" ON "node_join_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "port_allocations_slot_id_idx" ON "port_allocations"("slot_id");

-- CreateIndex
CREATE UNIQUE INDEX "port_allocations_node_id_host_port_key" ON "port_allocations"("node_id", "host_port");

-- CreateIndex
CREATE INDEX "secrets_customer_id_idx" ON "secrets"("customer_id");

-- CreateIndex
CREATE UNIQUE INDEX "secrets_slot_id_kind_key" ON "secrets"("slot_id", "kind");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "api_tokens_customer_id_idx" ON "api_tokens"("customer_id");

-- CreateIndex
CREATE INDEX "audit_events_at_idx" ON "audit_events"("at");

-- CreateIndex
CREATE INDEX "audit_events_target_type_target_id_idx" ON "audit_events"("target_type", "target_id");

-- AddForeignKey
ALTER TABLE "customers" ADD CONSTRAINT "customers_agent_type_id_fkey" FOREIGN KEY ("agent_type_id") REFERENCES "agent_types"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "customers" ADD CONSTRAINT "customers_llm_provider_id_fkey" FOREIGN KEY ("llm_provider_id") REFERENCES "llm_providers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "slots" ADD CONSTRAINT "slots_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "slots" ADD CONSTRAINT "slots_desired_agent_type_id_fkey" FOREIGN KEY ("desired_agent_type_id") REFERENCES "agent_types"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "slots" ADD CONSTRAINT "slots_desired_llm_provider_id_fkey" FOREIGN KEY ("desired_llm_provider_id") REFERENCES "llm_providers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "slots" ADD CONSTRAINT "slots_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_slot_id_fkey" FOREIGN KEY ("slot_id") REFERENCES "slots"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployment_events" ADD CONSTRAINT "deployment_events_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "port_allocations" ADD CONSTRAINT "port_allocations_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "port_allocations" ADD CONSTRAINT "port_allocations_slot_id_fkey" FOREIGN KEY ("slot_id") REFERENCES "slots"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "secrets" ADD CONSTRAINT "secrets_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "secrets" ADD CONSTRAINT "secrets_slot_id_fkey" FOREIGN KEY ("slot_id") REFERENCES "slots"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Capacity can never be over-reserved, whatever the caller does (the deploy pipeline's
-- conditional UPDATE relies on the same rule).
ALTER TABLE "nodes" ADD CONSTRAINT "nodes_allocated_nonnegative" CHECK ("allocated_memory_mb" >= 0 AND "allocated_cpu_millis" >= 0);
