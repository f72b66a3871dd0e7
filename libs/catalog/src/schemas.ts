/** JSON Schemas (ajv) for the catalogue files; the TypeScript shapes are in manifest.ts. */
const id = { type: 'string', pattern: '^[a-z][a-z0-9-]{1,40}$' };
const envName = { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' };
const port = { type: 'integer', minimum: 1, maximum: 65535 };

export const agentManifestSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'id', 'name', 'description', 'language', 'version', 'status', 'base_image', 'internal_port',
    'health_endpoint', 'start_period_seconds', 'min_memory', 'min_cpu', 'data_dir', 'ports',
    'config_template', 'env_vars', 'config_schema', 'llm_providers',
  ],
  properties: {
    id,
    name: { type: 'string', minLength: 1, maxLength: 80 },
    description: { type: 'string', maxLength: 2000 },
    language: { type: 'string', minLength: 1, maxLength: 40 },
    version: { type: 'string', pattern: '^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$' },
    status: { enum: ['ready', 'planned'] },
    base_image: { type: 'string', minLength: 1, maxLength: 255 },
    internal_port: port,
    health_endpoint: { type: 'string', pattern: '^/' },
    health_port_name: { type: 'string' },
    start_period_seconds: { type: 'integer', minimum: 1, maximum: 3600 },
    min_memory: { type: 'string', pattern: '^[0-9]+[MG]$' },
    min_cpu: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$' },
    data_dir: { type: 'string', pattern: '^/' },
    ports: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'container_port', 'publish'],
        properties: { name: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' }, container_port: port, publish: { type: 'boolean' } },
      },
    },
    config_template: {},
    config_file: { type: 'string', pattern: '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$' },
    env_vars: { type: 'array', items: envName },
    config_schema: { type: 'object' },
    llm_providers: {
      type: 'object',
      minProperties: 1,
      propertyNames: id,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: { key_env: envName, base_url_env: envName, key_config_path: { type: 'string', pattern: '^/' } },
      },
    },
    telegram_env: envName,
    notes: { type: 'array', items: { type: 'string' } },
    upstream: {
      type: 'object',
      additionalProperties: false,
      required: ['repository', 'release', 'facts'],
      properties: {
        repository: { type: 'string', pattern: '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$' },
        release: { type: 'string', minLength: 1, maxLength: 64 },
        facts: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['fact', 'source'],
            properties: { fact: { type: 'string', minLength: 1, maxLength: 500 }, source: { type: 'string', minLength: 1, maxLength: 300 } },
          },
        },
      },
    },
  },
} as const;

export const llmProvidersFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['providers'],
  properties: {
    providers: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'description', 'env_key', 'key_pattern', 'key_hint'],
        properties: {
          id,
          name: { type: 'string', minLength: 1, maxLength: 80 },
          description: { type: 'string', maxLength: 2000 },
          env_key: envName,
          base_url: { type: ['string', 'null'], format: 'uri' },
          key_pattern: { type: 'string', minLength: 1 },
          key_hint: { type: 'string', minLength: 1 },
          requires_base_url: { type: 'boolean' },
        },
      },
    },
  },
} as const;
