-- AlterTable
ALTER TABLE "deployments" ADD COLUMN "image_digest" TEXT;

-- CreateTable
CREATE TABLE "registry_credentials" (
    "host" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "ciphertext" BYTEA NOT NULL,
    "iv" BYTEA NOT NULL,
    "tag" BYTEA NOT NULL,
    "key_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "registry_credentials_pkey" PRIMARY KEY ("host")
);

-- CreateTable
CREATE TABLE "image_digests" (
    "image" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "changed_to" TEXT,
    "changed_at" TIMESTAMPTZ(3),

    CONSTRAINT "image_digests_pkey" PRIMARY KEY ("image")
);
