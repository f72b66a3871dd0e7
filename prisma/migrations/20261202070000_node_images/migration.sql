-- CreateTable
CREATE TABLE "node_images" (
    "node_id" UUID NOT NULL,
    "image" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "digest" TEXT,
    "failure_reason" TEXT,
    "failure_message" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "node_images_pkey" PRIMARY KEY ("node_id","image")
);

-- AddForeignKey
ALTER TABLE "node_images" ADD CONSTRAINT "node_images_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE CASCADE ON UPDATE CASCADE;
