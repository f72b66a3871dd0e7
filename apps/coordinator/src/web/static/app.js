/* global document, window, URLSearchParams */
// Berth customer UI: a hash-routed single page (#/, #/signup, #/login, #/slot), no framework.
import { api, session } from './api.js';
import { h, mount, usd } from './dom.js';
import { addonFields, canSignUp, field, loadCatalogue, selectionFields, showErrors } from './forms.js';
import { renderSlot } from './slot.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
let leaveScreen = null; // cleanup of the current screen (open event streams)

function go(hash) {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function renderNav() {
  const link = (href, text) =>
    h('a', { href, 'aria-current': window.location.hash.split('?')[0] === href ? 'page' : null }, text);
  if (session.token)
    mount(
      nav,
      link('#/', 'Marketplace'),
      link('#/slot', 'My slot'),
      h('button', { type: 'button', class: 'link', id: 'logout', on: { click: logout } }, 'Log out'),
    );
  else mount(nav, link('#/', 'Marketplace'), link('#/login', 'Log in'), link('#/signup', 'Sign up'));
}

async function logout() {
  try {
    await api('POST', '/api/auth/logout');
  } catch {
    /* the token may already be invalid; forget it anyway */
  }
  session.clear();
  session.remember('deployment', null);
  go('#/login');
}

function errorBox(err) {
  return h('div', { class: 'notice error-box', role: 'alert' }, err?.message ?? String(err));
}

// ---------- Marketplace ----------

async function marketplace() {
  const cat = await loadCatalogue();
  const providers = new Map(cat.providers.map((p) => [p.id, p]));
  const { plan } = cat;
  const addonText = Object.values(plan.addons ?? {})
    .map((a) => `${a.description} +${usd(a.monthly_price_usd)}`)
    .join(' · ');
  const stacks = cat.stacks?.stacks ?? [];
  // The "custom" entry is bring-your-own-image, not an agent framework: listed on its own.
  const frameworks = cat.agents.filter((a) => a.id !== 'custom');
  const byo = cat.agents.find((a) => a.id === 'custom');
  mount(
    main,
    h(
      'section',
      { class: 'hero' },
      h('h1', {}, 'Your own AI agent, hosted'),
      h(
        'p',
        {},
        `One slot: ${usd(plan.monthly_price_usd)}/month with ${plan.memory_mb} MB memory and ${plan.cpu_millis / 1000} CPU. Pick an agent, bring your LLM key, and it runs in minutes.`,
      ),
      h('p', { class: 'muted' }, `Add-ons: ${addonText}`),
    ),
    stacks.length
      ? h(
          'section',
          { class: 'stacks', 'aria-labelledby': 'stacks-h' },
          h(
            'h2',
            { id: 'stacks-h' },
            cat.stacks.source === 'usage' ? 'Popular stacks' : 'Recommended stacks',
          ),
          h(
            'ol',
            { class: 'stack-list' },
            stacks.map((s) =>
              h(
                'li',
                {},
                h(
                  'a',
                  {
                    href: `#/signup?agent=${encodeURIComponent(s.agent_type_id)}&provider=${encodeURIComponent(s.llm_provider_id)}`,
                  },
                  `${s.agent_name} + ${s.llm_provider_name}`,
                ),
                s.active_slots ? h('span', { class: 'muted' }, ` · ${s.active_slots} running`) : null,
              ),
            ),
          ),
        )
      : null,
    h('h2', {}, 'Agents'),
    h(
      'ul',
      { class: 'cards', id: 'agents' },
      frameworks.map((a) => agentCard(a, providers)),
    ),
    byo
      ? h(
          'section',
          { class: 'byo', id: 'byo', 'aria-labelledby': 'byo-h' },
          h('h2', { id: 'byo-h' }, 'Bring your own image'),
          h('ul', { class: 'cards' }, agentCard(byo, providers)),
        )
      : null,
  );
}

function agentCard(a, providers) {
  return h(
    'li',
    { class: 'card', dataset: { agent: a.id } },
    h(
      'div',
      { class: 'card-head' },
      h('h3', {}, a.name),
      h('span', { class: `badge status-${a.status}` }, a.status),
    ),
    h('p', {}, a.description ?? ''),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Language'),
      h('dd', {}, a.language ?? '—'),
      h('dt', {}, 'Needs'),
      h('dd', {}, `${a.min_memory ?? '—'} memory · ${a.min_cpu ?? '—'} CPU`),
      h('dt', {}, 'Add-ons'),
      h('dd', {}, a.required_addons?.length ? `requires ${a.required_addons.join(', ')}` : 'none required'),
      h('dt', {}, 'Providers'),
      h('dd', {}, (a.supported_providers ?? []).map((id) => providers.get(id)?.name ?? id).join(', ') || '—'),
    ),
    h(
      'div',
      { class: 'card-foot' },
      h('span', { class: 'price' }, `${usd(a.monthly_price_usd)}`, h('small', {}, '/month')),
      canSignUp(a)
        ? h('a', { class: 'button', href: `#/signup?agent=${encodeURIComponent(a.id)}` }, `Choose ${a.name}`)
        : h('span', { class: 'muted' }, 'Coming soon'),
    ),
  );
}

// ---------- Sign up ----------

async function signup(params) {
  const cat = await loadCatalogue();
  const general = h('div', { class: 'notice error-box', role: 'alert', hidden: true });
  const email = h('input', {
    id: 'su-email',
    name: 'email',
    type: 'email',
    autocomplete: 'email',
    required: true,
  });
  const password = h('input', {
    id: 'su-password',
    name: 'password',
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: 10,
  });
  const price = h('output', { id: 'su-price', class: 'price', 'aria-live': 'polite' });
  const addons = addonFields('su', cat.plan, { onChange: () => updatePrice() });
  const updatePrice = () => mount(price, usd(addons.price()), h('small', {}, '/month'));
  const sel = selectionFields('su', cat, {
    agentId: params.get('agent'),
    providerId: params.get('provider'),
    onAgent: (a) => {
      addons.requireFor(a);
      updatePrice();
    },
  });
  addons.requireFor(sel.agent());
  updatePrice();
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign up and deploy');
  const form = h(
    'form',
    { id: 'signup', class: 'panel form', novalidate: true },
    h('h1', {}, 'Sign up'),
    general,
    field('email', 'Email', email, null),
    field('password', 'Password', password, 'At least 10 characters; a passphrase is best.'),
    sel.el,
    addons.el,
    h('div', { class: 'total' }, h('span', {}, 'Monthly total'), price),
    submit,
    h('p', { class: 'muted' }, 'Already have a slot? ', h('a', { href: '#/login' }, 'Log in')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      const body = {
        email: email.value.trim(),
        password: password.value,
        ...sel.value(),
        addons: addons.value(),
      };
      const r = await api('POST', '/api/signup', body);
      session.set(r.token);
      session.remember('deployment', r.deployment?.id ?? r.slot?.deployment?.id ?? null);
      go('#/slot');
    } catch (err) {
      showErrors(form, general, err);
    } finally {
      submit.disabled = false;
    }
  });
  mount(main, form);
}

// ---------- Log in ----------

function login() {
  const general = h('div', { class: 'notice error-box', role: 'alert', hidden: true });
  const email = h('input', {
    id: 'li-email',
    name: 'email',
    type: 'email',
    autocomplete: 'username',
    required: true,
  });
  const password = h('input', {
    id: 'li-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h(
    'form',
    { id: 'login', class: 'panel form narrow', novalidate: true },
    h('h1', {}, 'Log in'),
    general,
    field('email', 'Email', email, null),
    field('password', 'Password', password, null),
    submit,
    h('p', { class: 'muted' }, 'New here? ', h('a', { href: '#/signup' }, 'Sign up')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      const r = await api('POST', '/api/auth/login', { email: email.value.trim(), password: password.value });
      session.set(r.token);
      go('#/slot');
    } catch (err) {
      showErrors(
        form,
        general,
        err.status === 401 ? { message: 'Wrong email or password.', fields: {} } : err,
      );
    } finally {
      submit.disabled = false;
    }
  });
  mount(main, form);
  email.focus();
}

// ---------- Router ----------

async function route() {
  leaveScreen?.();
  leaveScreen = null;
  const [path, query] = window.location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query ?? '');
  renderNav();
  try {
    if (path === '/signup') await signup(params);
    else if (path === '/login') login();
    else if (path === '/slot') {
      if (!session.token) return go('#/login');
      leaveScreen = await renderSlot(main, { loadCatalogue });
    } else await marketplace();
  } catch (err) {
    mount(main, errorBox(err));
  }
  document.title = `${main.querySelector('h1')?.textContent ?? 'Berth'} · Berth`;
}

window.addEventListener('hashchange', route);
window.addEventListener('berth:signed-out', () => go('#/login'));
route();
