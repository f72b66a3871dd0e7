/* global window, document, URL, AbortController, setInterval, clearInterval, setTimeout */
// "My slot": state, details, live deployment progress (server-sent events read with fetch),
// actions, logs, add-ons, switching agent/provider, billing, compose export, termination.
import { api, ApiError, followEvents, session } from './api.js';
import { h, humanize, mount, usd } from './dom.js';
import { eventList } from './deploy-events.js';
import { addonFields, selectionFields, showErrors } from './forms.js';

const BUSY = new Set(['pending', 'scheduling', 'deploying', 'switching', 'stopping', 'terminating']);

/** The customer's slot and, when the answer names one, its latest deployment id. */
async function fetchSlot() {
  try {
    const r = await api('GET', '/api/slot');
    const slot = r?.slot ?? r;
    return {
      slot,
      deploymentId:
        r?.deployment?.id ??
        slot?.deployment?.id ??
        slot?.last_deployment?.id ??
        slot?.last_deployment_id ??
        null,
    };
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
  }
  // No GET /api/slot (or no live slot there): the slots listed by GET /api/me.
  const me = await api('GET', '/api/me');
  const slots = me?.slots ?? [];
  const slot = slots.find((s) => s.state !== 'terminated') ?? slots[slots.length - 1] ?? null;
  return { slot, deploymentId: null };
}

function section(id, title, ...body) {
  return h(
    'section',
    { class: 'panel', id, 'aria-labelledby': `${id}-h` },
    h('h2', { id: `${id}-h` }, title),
    ...body,
  );
}

function row(label, value) {
  return [h('dt', {}, label), h('dd', {}, value)];
}

export async function renderSlot(main, { loadCatalogue }) {
  const cat = await loadCatalogue();
  const agents = new Map(cat.agents.map((a) => [a.id, a]));
  const providers = new Map(cat.providers.map((p) => [p.id, p]));
  let following = null; // AbortController of the open event stream
  let followingId = null;
  let closed = false;

  let { slot, deploymentId } = await fetchSlot();
  if (!slot) {
    mount(
      main,
      h(
        'section',
        { class: 'panel' },
        h('h1', {}, 'My slot'),
        h('p', {}, 'You have no slot yet. '),
        h('a', { class: 'button', href: '#/signup' }, 'Choose an agent'),
      ),
    );
    return () => undefined;
  }

  // ----- containers, filled by the render functions below -----
  const stateBox = h('div', { class: 'state', id: 'slot-state', 'aria-live': 'polite' });
  const details = h('dl', { class: 'facts wide', id: 'slot-details' });
  const actionMsg = h('p', { class: 'notice', id: 'action-status', role: 'status', hidden: true });
  const buttons = {};
  const btn = (name, text, onClick, cls = '') =>
    (buttons[name] = h(
      'button',
      { type: 'button', id: `slot-${name}`, class: cls, on: { click: onClick } },
      text,
    ));
  const progressHead = h('p', { class: 'muted', id: 'progress-status' }, 'No deployment in progress.');
  const events = h('ol', { class: 'events', id: 'events' });
  const logsPre = h('pre', { class: 'logs', id: 'logs', tabindex: '0', hidden: true });
  const billingBox = h('div', { id: 'billing-body' }, h('p', { class: 'muted' }, 'Loading…'));

  const say = (text, kind = 'info') => {
    actionMsg.textContent = text;
    actionMsg.className = `notice ${kind === 'error' ? 'error-box' : ''}`;
    actionMsg.hidden = !text;
  };

  function renderState() {
    const reason = slot.state_reason;
    mount(
      stateBox,
      h('span', { class: `badge state-${slot.state}`, id: 'slot-state-badge' }, slot.state),
      h(
        'span',
        { class: 'state-text' },
        reason
          ? h('span', { id: 'slot-state-reason' }, reason)
          : h('span', { class: 'muted' }, BUSY.has(slot.state) ? 'Working on it…' : ''),
      ),
    );
    const agent = agents.get(slot.agent_type_id);
    const running =
      slot.current_agent_type_id && slot.current_agent_type_id !== slot.agent_type_id
        ? (agents.get(slot.current_agent_type_id)?.name ?? slot.current_agent_type_id)
        : null;
    const ports = slot.published_ports ?? [];
    const urls = new Map((slot.urls ?? []).map((u) => [u.name, u.url]));
    const addonsOn = Object.entries(slot.addons ?? {})
      .filter(([, on]) => on)
      .map(([n]) => cat.plan.addons?.[n]?.description ?? humanize(n));
    const res = slot.resources ?? {};
    mount(
      details,
      row('Agent', [
        agent?.name ?? slot.agent_type_id,
        slot.current_agent_version ? ` (version ${slot.current_agent_version})` : '',
        running ? ` · now running: ${running}` : '',
      ]),
      row('LLM provider', [
        providers.get(slot.llm_provider_id)?.name ?? slot.llm_provider_id ?? '—',
        slot.secrets?.llm_key ? ` · key ${slot.secrets.llm_key}` : '',
      ]),
      slot.llm_base_url ? row('Base URL', slot.llm_base_url) : null,
      row('Node', slot.node?.name ?? slot.node_name ?? slot.node_id ?? 'not placed yet'),
      slot.health ? row('Health', slot.health) : null,
      row('Resources', `${res.memory_mb ?? '—'} MB memory · ${res.cpu ?? '—'} CPU`),
      row('Add-ons', addonsOn.length ? addonsOn.join(', ') : 'none'),
      row('Price', `${usd(slot.monthly_price_usd)}/month`),
      row(
        'Ports',
        ports.length
          ? h(
              'ul',
              { class: 'plain' },
              ports.map((p) => {
                const url = p.url ?? urls.get(p.name);
                return h(
                  'li',
                  {},
                  url && /^https?:\/\//.test(url)
                    ? h('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, url)
                    : `${p.host_ip}:${p.host_port}`,
                  ` → ${p.name ?? ''} (container port ${p.container_port ?? '?'})`,
                );
              }),
            )
          : 'none published yet',
      ),
      row('Slot id', h('code', {}, slot.id)),
    );
    const dead = slot.state === 'terminated' || slot.state === 'terminating';
    // One deployment at a time per slot; only terminate may supersede one waiting for room.
    for (const b of Object.values(buttons)) b.disabled = dead || !!following;
    if (buttons.terminate) buttons.terminate.disabled = dead;
    if (buttons.start) buttons.start.disabled ||= !['stopped', 'failed'].includes(slot.state);
    if (buttons.stop) buttons.stop.disabled ||= ['stopped', 'terminated'].includes(slot.state);
    if (buttons.logs) buttons.logs.disabled = dead;
    if (buttons.compose) buttons.compose.disabled = dead;
  }

  async function refresh() {
    try {
      const r = await fetchSlot();
      if (r.slot) slot = r.slot;
      if (r.deploymentId && r.deploymentId !== followingId && !following) {
        const known = session.recall('deployment');
        if (r.deploymentId !== known) void follow(r.deploymentId);
      }
      renderState();
    } catch (err) {
      if (err.status !== 401) say(`Could not refresh the slot: ${err.message}`, 'error');
    }
  }

  async function follow(id) {
    if (!id || closed) return;
    following?.abort();
    const ctl = new AbortController();
    following = ctl;
    followingId = id;
    session.remember('deployment', id);
    mount(events);
    mount(progressHead, `Deployment ${id.slice(0, 8)}: in progress. Other changes wait until it ends.`);
    renderState();
    let last = null;
    const add = eventList(events);
    try {
      await followEvents(
        `/api/deployments/${encodeURIComponent(id)}/events`,
        (ev) => {
          const d = ev.data && typeof ev.data === 'object' ? ev.data : { message: String(ev.data ?? '') };
          last = ev.type;
          if (add(ev.type, d)) void refresh();
        },
        ctl.signal,
      );
      if (following === ctl)
        mount(
          progressHead,
          `Deployment ${id.slice(0, 8)}: finished${last ? ` (${last.replace(/_/g, ' ')})` : ''}.`,
        );
    } catch (err) {
      if (ctl.signal.aborted) return;
      mount(
        progressHead,
        err.status === 404
          ? 'No progress to show for this deployment.'
          : `Lost the progress stream: ${err.message}`,
      );
    } finally {
      if (following === ctl) {
        following = null;
        await refresh();
      }
    }
  }

  /** POSTs/PUTs an action; the 202 answer's deployment is then followed live. */
  async function act(label, method, path, body, form, general) {
    say(`${label}…`);
    for (const b of Object.values(buttons)) b.disabled = true;
    try {
      const r = await api(method, path, body);
      say(`${label}: accepted.`);
      if (form) form.querySelectorAll('input[type=password]').forEach((i) => (i.value = ''));
      const id = r?.deployment?.id;
      if (id) void follow(id);
      else await refresh();
      return true;
    } catch (err) {
      if (form && general) showErrors(form, general, err);
      say(`${label} failed: ${err.message}`, 'error');
      return false;
    } finally {
      renderState();
    }
  }

  // ----- actions -----
  const actions = h(
    'div',
    { class: 'actions' },
    btn('start', 'Start', () => act('Start', 'POST', '/api/slot/start')),
    btn('stop', 'Stop', () => act('Stop', 'POST', '/api/slot/stop')),
    btn('restart', 'Restart', () => act('Restart', 'POST', '/api/slot/restart')),
    btn('compose', 'Export compose file', () => exportCompose()),
  );

  async function showLogs() {
    logsPre.hidden = false;
    logsPre.textContent = 'Loading logs…';
    try {
      const text = await api('GET', '/api/slot/logs?tail=200', undefined, { as: 'text' });
      logsPre.textContent = text || '(no output yet)';
      logsPre.scrollTop = logsPre.scrollHeight;
    } catch (err) {
      logsPre.textContent = `Could not read the logs: ${err.message}`;
    }
  }

  async function exportCompose() {
    try {
      const res = await api('GET', '/api/slot/compose', undefined, { as: 'response' });
      let text = await res.text();
      if ((res.headers.get('content-type') ?? '').includes('json')) {
        const j = JSON.parse(text);
        text = typeof j === 'string' ? j : (j.compose ?? j.yaml ?? JSON.stringify(j, null, 2));
      }
      const url = URL.createObjectURL(new window.Blob([text], { type: 'application/yaml' }));
      const a = h('a', {
        href: url,
        download: `berth-slot-${slot.id.slice(0, 8)}-compose.yaml`,
        hidden: true,
      });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      const vars = (res.headers.get('x-berth-variables') ?? '').split(',').filter(Boolean);
      say(
        vars.length
          ? `Compose file downloaded. Secrets are placeholders: set ${vars.join(', ')} before running it.`
          : 'Compose file downloaded.',
      );
    } catch (err) {
      say(`Export failed: ${err.message}`, 'error');
    }
  }

  // ----- add-ons -----
  const addonGeneral = h('div', { class: 'notice error-box', role: 'alert', hidden: true });
  const addonTotal = h('output', { class: 'price', id: 'addons-price' });
  const addons = addonFields('ad', cat.plan, {
    legend: null,
    current: slot.addons ?? {},
    onChange: () => mount(addonTotal, `${usd(addons.price())}/month`),
  });
  addons.requireFor(agents.get(slot.agent_type_id));
  mount(addonTotal, `${usd(addons.price())}/month`);
  const addonForm = h(
    'form',
    { id: 'addons-form', class: 'form', novalidate: true },
    addonGeneral,
    addons.el,
    h('div', { class: 'total' }, h('span', {}, 'New monthly total'), addonTotal),
    btn('addons', 'Update add-ons', () => undefined, 'primary'),
  );
  buttons.addons.type = 'submit';
  addonForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (await act('Add-ons', 'PUT', '/api/slot/addons', addons.value(), addonForm, addonGeneral))
      void loadBilling();
  });

  // ----- switch -----
  const swGeneral = h('div', { class: 'notice error-box', role: 'alert', hidden: true });
  const sw = selectionFields('sw', cat, {
    agentId: slot.agent_type_id,
    providerId: slot.llm_provider_id,
    config: slot.config,
    keyOptional: true,
  });
  const swForm = h(
    'form',
    { id: 'switch-form', class: 'form', novalidate: true },
    swGeneral,
    sw.el,
    h(
      'p',
      { class: 'hint' },
      'Each agent keeps its own data in your slot; switching back finds it again. If the new agent never becomes healthy, the slot goes back to the old one.',
    ),
    btn('switch', 'Switch', () => undefined, 'primary'),
  );
  buttons.switch.type = 'submit';
  swForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (await act('Switch', 'POST', '/api/slot/switch', sw.value(), swForm, swGeneral)) sw.clearSecrets();
  });

  // ----- billing -----
  async function loadBilling() {
    try {
      const b = await api('GET', '/api/billing');
      const lines = Array.isArray(b.lines) ? b.lines : [];
      mount(
        billingBox,
        h(
          'table',
          { class: 'bill' },
          h(
            'tbody',
            {},
            lines.map((l) =>
              h(
                'tr',
                {},
                h('td', {}, String(l.description ?? l.label ?? l.name ?? l.item ?? '')),
                h('td', { class: 'num' }, usd(l.monthly_usd ?? l.amount_usd ?? l.monthly_price_usd ?? 0)),
              ),
            ),
          ),
          h(
            'tfoot',
            {},
            h(
              'tr',
              {},
              h('th', {}, 'Monthly total'),
              h('th', { class: 'num', id: 'billing-total' }, usd(b.monthly_total_usd)),
            ),
          ),
        ),
      );
    } catch (err) {
      if (err.status !== 404)
        return mount(billingBox, h('p', { class: 'error' }, `Could not load billing: ${err.message}`));
      // No billing endpoint on this coordinator: the slot's own price.
      mount(
        billingBox,
        h(
          'p',
          {},
          `Monthly total: ${usd(slot.monthly_price_usd)} (base plan ${usd(cat.plan.monthly_price_usd)} plus add-ons).`,
        ),
      );
    }
  }

  // ----- terminate -----
  const danger = section(
    'danger',
    'Terminate',
    h('p', {}, 'Stops your agent and frees the slot. Its data is kept for a retention period, then deleted.'),
    btn(
      'terminate',
      'Terminate slot',
      () => {
        if (window.confirm('Terminate your slot? The agent stops and the slot is released.'))
          void act('Terminate', 'DELETE', '/api/slot');
      },
      'danger',
    ),
  );

  mount(
    main,
    h('div', { class: 'slot-head' }, h('h1', {}, 'My slot'), stateBox),
    actionMsg,
    h(
      'div',
      { class: 'grid2' },
      section('overview', 'Overview', details, actions),
      section('progress', 'Deployment progress', progressHead, events),
    ),
    section(
      'logs-section',
      'Logs',
      h(
        'div',
        { class: 'actions' },
        btn('logs', 'Show logs', () => showLogs()),
        h('span', { class: 'hint' }, 'The last 200 lines of your agent’s output.'),
      ),
      logsPre,
    ),
    h(
      'div',
      { class: 'grid2' },
      section('addons-section', 'Add-ons', addonForm),
      section('billing', 'Billing', billingBox),
    ),
    section('switch', 'Switch agent or LLM provider', swForm),
    danger,
  );
  renderState();
  void loadBilling();

  const remembered = session.recall('deployment');
  const first = deploymentId ?? remembered;
  if (first) void follow(first);

  const timer = setInterval(() => {
    if (!following && BUSY.has(slot.state)) void refresh();
  }, 5000);
  return () => {
    closed = true;
    clearInterval(timer);
    following?.abort();
  };
}
