/**
 * The layer rules in eslint.config.mjs (docs/layers.md) catch what they are for. ESLint runs as
 * `npm run lint` does, on code given through stdin under a path inside the repository, so the
 * rules see it where such a file would live; nothing is written to the tree.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

interface LintMessage {
  ruleId: string | null;
  message: string;
}

function lint(filePath: string, code: string): Promise<LintMessage[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [path.join(root, 'node_modules/eslint/bin/eslint.js'), '--format', 'json', '--stdin', '--stdin-filename', filePath],
      { cwd: root },
      (err, stdout, stderr) => {
        // ESLint exits 1 when it finds problems; 2 means it could not run.
        if (err && err.code !== 1) return reject(new Error(`eslint failed: ${stderr || err.message}`));
        const [result] = JSON.parse(stdout) as { messages: LintMessage[] }[];
        resolve(result.messages);
      },
    );
    child.stdin!.end(code);
  });
}

const boundaryErrors = (messages: LintMessage[]) =>
  messages.filter((m) => m.ruleId === 'boundaries/dependencies').map((m) => m.message);

describe('layer rules (eslint-plugin-boundaries)', () => {
  it('refuses a coordinator feature importing a higher layer or the node daemon', async () => {
    const errors = boundaryErrors(
      await lint(
        'apps/coordinator/src/deployments/layer-probe.ts',
        "import { SlotsService } from '../slots/slots.service';\n" +
          "import { startNodeAgent } from '@berth/node-daemon';\n" +
          'export const probe = [SlotsService, startNodeAgent];\n',
      ),
    );
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain('"coordinator-deployments" to elements of type "coordinator-slots"');
    expect(errors[1]).toContain('"lib-node-daemon"');
  });

  it('lets a feature import its own layer, lower layers and the shared libraries', async () => {
    const messages = await lint(
      'apps/coordinator/src/slots/layer-probe.ts',
      "import { DeploymentsService } from '../deployments/deployments.service';\n" +
        "import { toSlot } from '../slot-model';\n" +
        "import { NotFoundError } from '@berth/domain';\n" +
        'export const probe = [DeploymentsService, toSlot, NotFoundError];\n',
    );
    expect(boundaryErrors(messages)).toEqual([]);
  });

  it('refuses a lower library importing a higher one', async () => {
    const errors = boundaryErrors(
      await lint('libs/domain/src/layer-probe.ts', "import { renderSlot } from '@berth/templates';\nexport const probe = renderSlot;\n"),
    );
    expect(errors).toEqual([expect.stringContaining('"lib-base" to elements of type "lib-templates"')]);
  });

  it("refuses an app importing another app's files or a library's private files", async () => {
    const errors = boundaryErrors(
      await lint(
        'apps/node-agent/src/layer-probe.ts',
        "import { createApp } from '../../coordinator/src/app';\n" +
          "import { SlotService } from '../../../libs/node-daemon/src/slots/slot.service';\n" +
          "import { startNodeAgent } from '@berth/node-daemon';\n" +
          'export const probe = [createApp, SlotService, startNodeAgent];\n',
      ),
    );
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain('"node-agent-app" to elements of type "coordinator-root"');
    expect(errors[1]).toContain('fileInternalPath "src/slots/slot.service.ts"');
  });
});
