-- AlterTable: each agent type keeps its template files (compose.yaml.hbs, config.json.hbs,
-- template.json) beside its manifest, so community agents added through the admin API need no
-- folder on the coordinator's disk, and every coordinator renders from the same row.
ALTER TABLE "agent_types" ADD COLUMN "template_files" JSONB;
ALTER TABLE "agent_types" ADD COLUMN "source" TEXT NOT NULL DEFAULT 'catalogue';
