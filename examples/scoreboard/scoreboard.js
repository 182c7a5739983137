// The scoreboard page: the sockets, the competition choice and the rendering. The event logic is in
// scoreboard-state.js (no DOM), which folds the snapshot's frames and the live ones alike.
//
// Query parameters: ?server=ws://host:port to read another aggregator than the page's own host: accepted
// only for the page's own origin or one the operator lists in <meta name="ovalstream-servers"> (a
// space-separated list of ws:// or wss:// origins), so a link cannot point the page at anyone's socket.
//
// Access tokens (an aggregator run with --auth required): the page takes one from its URL's fragment,
// "#<competition id>&token=<JWT>" or "#token=<JWT>" (a fragment is never sent to a server, so the token stays
// out of every access log), and offers it to the aggregator as the websocket subprotocol "bearer.<JWT>"
// beside "ovalstream" (a browser's WebSocket cannot set an Authorization header; a subprotocol is not part
// of the URL either). When the aggregator closes a socket with 4001 (the token expired) the page says so and
// keeps retrying; a new token put into the fragment is used at once.
//
// Every text from events goes into the page as text (textContent, attribute values through the DOM), never
// as markup: an event is data published by whoever can reach NATS.
//
// Resume (docs/protocol.md, "Positions and resume"): the competition socket asks for ?positions=1 and keeps
// the position and epoch of the aggregator's live/position frames; a reconnection asks for ?since=P&epoch=E
// and keeps the board (only the missed events follow), unless the aggregator answers with a reset. Live
// events are applied when their batch's position frame arrives, so the board always stands exactly at the
// kept position (a batch cut short by a lost connection comes again on resume). A server that sends no
// control frames (the original, an older aggregator) gets the old behaviour: every (re)connection starts
// from an empty state, and nothing is animated, since nothing tells the snapshot from live events.
//
// Animations: a new lap time and a race's finish flash briefly, only for events applied after the live
// frame, never for the snapshot or a resume's catch-up.
//
// Test hooks (cheap, always on):
//   document.body.dataset.stream    'catching-up' (snapshot, catch-up, or no control frames) | 'live'
//   document.body.dataset.position  the stream position the rendered board stands at ('' when unknown)
//   document.body.dataset.resumes   reconnections answered without a reset (exact resumes)
//   document.body.dataset.resets    reset frames received
//   window.ovalstreamAnimations     the animations fired, oldest first: {raceId, lapIndex, kind: 'lap'|'finish'}
//   document.body.dataset.tokenExpired  'true' after a close with 4001, until a new token is given
// The board's socket state stays in #connection's data-state: 'connecting' | 'live' | 'lost'.
import {
  initialState,
  applyEvent,
  raceView,
  fieldOrder,
  distanceResults,
  distanceLabel,
  formatTime,
  formatSpeed,
  controlFrame,
  streamQuery,
  lapProgress,
  newProgress,
} from './scoreboard-state.js';

const BACKOFF_FIRST_MS = 500;
const BACKOFF_CAP_MS = 15000;
// The close code of an aggregator whose client's token expired (docs/protocol.md).
const TOKEN_EXPIRED_CODE = 4001;
// A socket that stayed open this long counts as a success: the next loss starts the backoff afresh.
const STABLE_AFTER_MS = 5000;
// With no competition in the URL, wait this long for the list to settle before auto-picking the only one.
const AUTO_PICK_SETTLE_MS = 400;
// The animations' durations in scoreboard.css: an entry older than that no longer shows.
const ANIMATION_MS = { lap: 1600, finish: 2400 };
// Fired animations kept for the tests: a bound, for a page left open all day.
const ANIMATION_LOG_LIMIT = 1000;
// Live events waiting for their batch's position frame: the aggregator ends every batch with one, so this
// many means a server that does not; they are then shown anyway and the position is given up.
const PENDING_LIMIT = 10000;

const params = new URLSearchParams(location.search);
const ownServer = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;

// The websocket origin of `value` (ws: or wss:, no path, query or credentials), or null.
function websocketOrigin(value) {
  try {
    const url = new URL(value);
    if ((url.protocol !== 'ws:' && url.protocol !== 'wss:') || url.username || url.password) return null;
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) return null;
    return `${url.protocol}//${url.host}`;
  } catch {
    return null;
  }
}

function allowedServers() {
  const listed = document.querySelector('meta[name="ovalstream-servers"]')?.content ?? '';
  return new Set([ownServer, ...listed.split(/\s+/).map(websocketOrigin).filter(Boolean)]);
}

function chooseServer() {
  const requested = params.get('server');
  if (!requested) return ownServer;
  const origin = websocketOrigin(requested.replace(/\/+$/, ''));
  if (origin && allowedServers().has(origin)) return origin;
  console.warn(`ignoring ?server=${requested}: not this page's origin nor listed in <meta name="ovalstream-servers">`);
  document.body.dataset.serverRefused = 'true';
  return ownServer;
}
const serverBase = chooseServer();

const elements = {
  name: document.getElementById('competition-name'),
  picker: document.getElementById('competition-picker'),
  connection: document.getElementById('connection'),
  banner: document.getElementById('banner'),
  board: document.getElementById('board'),
};

// ---- a websocket that reconnects with capped exponential backoff ------------------------------------------

// The fragment: the competition id and the access token ("#<id>&token=<JWT>", "#token=<JWT>", "#<id>").
function readFragment() {
  const raw = location.hash.replace(/^#/, '');
  const match = /(^|&)token=([^&]*)/.exec(raw);
  let token = null;
  if (match) {
    try {
      token = decodeURIComponent(match[2]);
    } catch {
      token = null; // a malformed escape: no token rather than a broken one
    }
  }
  const idText = (match ? raw.slice(0, match.index) + raw.slice(match.index + match[0].length) : raw).replace(/^&+|&+$/g, '');
  // A JWT is three base64url parts; anything else is not offered (it could not be a subprotocol value).
  return { idText, token: token && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token) ? token : null };
}
let accessToken = readFragment().token;

// The subprotocols a socket offers: the token's, when the page has one.
function socketProtocols() {
  return accessToken ? ['ovalstream', `bearer.${accessToken}`] : [];
}

// `url` is a string or a function called at each attempt (a resume asks for what it has).
class ReconnectingSocket {
  constructor(url, { onOpen, onFrame, onState, onClose = () => {} }) {
    this.url = url;
    this.onOpen = onOpen;
    this.onFrame = onFrame;
    this.onState = onState;
    this.onClose = onClose;
    this.attempt = 0;
    this.closed = false;
    this.timer = null;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    this.onState({ state: 'connecting', attempt: this.attempt });
    let socket;
    try {
      socket = new WebSocket(typeof this.url === 'function' ? this.url() : this.url, socketProtocols());
    } catch (error) {
      this.scheduleRetry(String(error));
      return;
    }
    this.socket = socket;
    let openedAt = 0;
    socket.onopen = () => {
      openedAt = Date.now();
      this.onOpen();
      this.onState({ state: 'live', attempt: this.attempt });
    };
    socket.onmessage = (message) => {
      if (typeof message.data !== 'string') return;
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return; // never crash on input
      }
      this.onFrame(event);
    };
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.closed) return;
      this.onClose();
      if (openedAt && Date.now() - openedAt >= STABLE_AFTER_MS) this.attempt = 0;
      if (close.code === TOKEN_EXPIRED_CODE) document.body.dataset.tokenExpired = 'true';
      // Refused at the handshake after an expiry: the expired token is why (a browser sees no status).
      if (document.body.dataset.tokenExpired === 'true' && (close.code === TOKEN_EXPIRED_CODE || !openedAt)) {
        this.scheduleRetry('access token expired (4001): open the page with a new #token=');
        return;
      }
      this.scheduleRetry(close.code ? `closed (${close.code}${close.reason ? ` ${close.reason}` : ''})` : 'closed');
    };
  }

  scheduleRetry(reason) {
    const delay = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
    this.attempt += 1;
    this.onState({ state: 'lost', attempt: this.attempt, retryInMs: jittered, reason });
    this.timer = setTimeout(() => this.connect(), jittered);
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close();
    this.socket = null;
  }

  // Connects again now (a new token), with the backoff afresh.
  reconnectNow() {
    if (this.closed) return;
    clearTimeout(this.timer);
    const old = this.socket;
    this.socket = null; // its close event is no longer this socket's
    if (old) old.close();
    this.attempt = 0;
    this.connect();
  }
}

// ---- competitions list and choice --------------------------------------------------------------------------

const competitions = new Map(); // id -> {id, name}
let competitionSocket = null;
let listSocketState = { state: 'connecting' };
let boardSocketState = { state: 'idle' };
let state = initialState();
let selectedId = null;
let autoPickTimer = null;

// Where the board stands in the aggregator's stream, and this connection's progress through it.
const stream = {
  position: null, // of the latest live/position frame, when the board stands exactly there
  epoch: null,
  resuming: false, // this connection asked for ?since=
  live: false, // this connection is past its live frame
  counted: false, // this connection's resume is counted (in resumes or, after a reset, not at all)
  pending: [], // live events waiting for their batch's position frame
  progress: new Map(), // lapProgress(state) after the latest live change: what animations compare with
};
const counters = { resumes: 0, resets: 0 };
const animations = new Map(); // `${raceId}/${lapIndex}/${kind}` -> performance.now() when it started
window.ovalstreamAnimations = [];

function hashId() {
  let id;
  try {
    id = decodeURIComponent(readFragment().idText);
  } catch {
    return null; // a malformed escape in the URL
  }
  // Any id the aggregator accepts: one subject token (no . * > whitespace or control characters).
  return /^[^.*>\s\u0000-\u001f\u007f]{1,256}$/u.test(id) ? id : null;
}

function renderPicker() {
  const options = [...competitions.values()];
  const current = selectedId;
  const nodes = [el('option', { value: '' }, options.length ? 'choose a competition' : 'waiting for competitions…')];
  for (const c of options) nodes.push(el('option', { value: c.id, selected: c.id === current }, c.name));
  if (current && !competitions.has(current)) nodes.push(el('option', { value: current, selected: true }, current));
  elements.picker.replaceChildren(...nodes);
}

function onCompetitionFrame(event) {
  if (!event || event.typeName !== 'CompetitionActivatedEvent' || typeof event.competitionId !== 'string') return;
  const name = event.competition && typeof event.competition.name === 'string' ? event.competition.name : event.competitionId;
  competitions.set(event.competitionId, { id: event.competitionId, name });
  renderPicker();
  if (!selectedId) {
    clearTimeout(autoPickTimer);
    autoPickTimer = setTimeout(() => {
      if (!selectedId && competitions.size === 1) select([...competitions.keys()][0]);
    }, AUTO_PICK_SETTLE_MS);
  }
}

function select(id) {
  if (id === selectedId) return;
  selectedId = id;
  // The token stays in the fragment: a reload keeps it.
  const tokenPart = accessToken ? `token=${accessToken}` : '';
  const fragment = [id ?? '', tokenPart].filter(Boolean).join('&');
  if (fragment && location.hash !== `#${fragment}`) history.replaceState(null, '', `#${fragment}`);
  if (!fragment) history.replaceState(null, '', location.pathname + location.search);
  if (competitionSocket) competitionSocket.close();
  competitionSocket = null;
  startAfresh();
  stream.live = false;
  boardSocketState = { state: 'idle' };
  renderPicker();
  if (id) {
    const base = `${serverBase}/v1/competitions/${encodeURIComponent(id)}`;
    competitionSocket = new ReconnectingSocket(() => {
      const query = streamQuery(stream.position, stream.epoch);
      stream.resuming = query.startsWith('?since=');
      return base + query;
    }, {
      // A resume keeps the board (the missed events follow); anything else starts with a snapshot.
      onOpen: () => {
        stream.live = false;
        stream.counted = false;
        stream.pending = [];
        if (!stream.resuming) startAfresh();
        scheduleRender();
      },
      onFrame,
      onClose: () => {
        // Events of a batch whose position frame did not arrive come again on resume.
        stream.live = false;
        stream.pending = [];
        scheduleRender();
      },
      onState: (s) => {
        boardSocketState = s;
        renderConnection();
      },
    });
  }
  scheduleRender();
}

// An empty board, at no position.
function startAfresh() {
  state = initialState();
  stream.position = null;
  stream.epoch = null;
  stream.pending = [];
  stream.progress = new Map();
  animations.clear();
}

function onFrame(frame) {
  const control = controlFrame(frame);
  if (control) {
    onControl(control);
    return;
  }
  if (stream.live) {
    stream.pending.push(frame);
    if (stream.pending.length > PENDING_LIMIT) {
      applyPending();
      stream.position = null;
    }
    return;
  }
  // The snapshot or a resume's catch-up: applied at once, never animated. Until the live frame the board is
  // between positions: a connection lost now cannot resume from the old one.
  stream.position = null;
  if (applyEvent(state, frame)) scheduleRender();
  document.body.dataset.frames = String(state.events);
}

function onControl(control) {
  switch (control.kind) {
    case 'live':
      if (stream.live) applyPending();
      if (stream.resuming && !stream.counted) counters.resumes += 1;
      stream.counted = true;
      stream.position = control.position;
      stream.epoch = control.epoch;
      stream.live = true;
      stream.progress = lapProgress(state);
      break;
    case 'position':
      if (!stream.live) return; // position frames end live batches only
      applyPending();
      stream.position = control.position;
      break;
    case 'reset':
      // What the board holds is void (a resume refused, or the competition's state dropped): a snapshot or
      // the competition's next events follow, then a live frame.
      counters.resets += 1;
      stream.counted = true;
      stream.live = false;
      startAfresh();
      break;
    default:
      return; // not ours to act on
  }
  document.body.dataset.resumes = String(counters.resumes);
  document.body.dataset.resets = String(counters.resets);
  scheduleRender();
}

// Applies the live events of a batch and animates what they made new.
function applyPending() {
  const events = stream.pending;
  stream.pending = [];
  let changed = false;
  for (const event of events) changed = applyEvent(state, event) || changed;
  document.body.dataset.frames = String(state.events);
  if (!changed) return;
  const progress = lapProgress(state);
  const now = performance.now();
  for (const item of newProgress(stream.progress, progress)) {
    animations.set(`${item.raceId}/${item.lapIndex}/${item.kind}`, now);
    window.ovalstreamAnimations.push(item);
  }
  if (window.ovalstreamAnimations.length > ANIMATION_LOG_LIMIT) window.ovalstreamAnimations.splice(0, window.ovalstreamAnimations.length - ANIMATION_LOG_LIMIT);
  stream.progress = progress;
  scheduleRender();
}

// ---- rendering ---------------------------------------------------------------------------------------------

// An element with attributes (false/null/undefined ones left out) and children: strings and numbers become
// text nodes, arrays are flattened, null/false/'' are skipped. Nothing is ever parsed as markup.
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false || child === '') continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

let renderPending = false;
function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    render();
  });
}

function renderConnection() {
  // The board's socket matters once a competition is chosen; before, the list's.
  const s = selectedId ? boardSocketState : listSocketState;
  const el = elements.connection;
  el.dataset.state = s.state;
  if (s.state === 'live') el.textContent = 'live';
  else if (s.state === 'lost') el.textContent = 'connection lost';
  else if (s.state === 'connecting') el.textContent = s.attempt ? `reconnecting (attempt ${s.attempt})…` : 'connecting…';
  else el.textContent = '';
  if (s.state === 'lost') {
    elements.banner.hidden = false;
    elements.banner.textContent = `Connection to the server lost (${s.reason}). Retrying in ${Math.ceil(s.retryInMs / 1000)} s (attempt ${s.attempt}); the board shows the last known state.`;
  } else if (s.state === 'connecting' && s.attempt) {
    elements.banner.hidden = false;
    elements.banner.textContent = `Reconnecting (attempt ${s.attempt})…`;
  } else {
    elements.banner.hidden = true;
  }
  elements.board.classList.toggle('stale', s.state !== 'live' && s.state !== 'idle');
}

// Marks `node` as the running animation of (raceId, lapIndex, kind), if there is one. The board is rebuilt
// on every change, so the animation is started in the past by the time it has run: a negative delay makes
// the new node pick it up where the old one was instead of restarting it.
function animated(node, raceId, lapIndex, kind) {
  const started = animations.get(`${raceId}/${lapIndex}/${kind}`);
  if (started === undefined) return node;
  node.classList.add(`flash-${kind}`);
  node.style.animationDelay = `${-Math.round(performance.now() - started)}ms`;
  return node;
}

function dropFinishedAnimations() {
  const now = performance.now();
  for (const [key, started] of animations) {
    if (now - started > ANIMATION_MS[key.slice(key.lastIndexOf('/') + 1)]) animations.delete(key);
  }
}

function laneBadge(view) {
  const letter = view.lane === 'inner' ? 'I' : view.lane === 'outer' ? 'O' : '–';
  return el('div', { class: `lane ${view.lane ?? 'none'}`, title: `${view.lane ?? 'lane unknown'} lane`, 'data-testid': 'lane' }, letter);
}

function who(view) {
  const c = view.competitor;
  return el('div', { class: 'who' },
    el('span', { class: 'no' }, c.startNumber ?? ''),
    el('span', { class: 'name', 'data-testid': 'race-name' }, c.name || c.shortName || '(unknown)'),
    el('span', { class: 'nat', 'data-testid': 'race-nationality' }, c.nationality),
    c.members.length ? el('div', { class: 'members' }, c.members.join(' · ')) : null);
}

function clock(view) {
  if (view.finishTime !== null) return animated(el('div', { class: 'clock final', 'data-testid': 'finish-time', title: 'finish time' }, formatTime(view.finishTime)), view.id, view.lapsDone - 1, 'finish');
  return el('div', { class: 'clock', 'data-testid': 'elapsed', title: 'time at the latest passing' }, view.elapsed ? formatTime(view.elapsed) : '');
}

function stats(view) {
  const last = view.lastLap;
  const at = last && last.passedLength !== null ? `${last.passedLength} m` : view.lapsDone ? `lap ${view.lapsDone}` : 'start';
  const stat = (label, value, attributes = {}) => el('span', {}, `${label} `, el('b', attributes, value));
  return el('div', { class: 'stats' },
    stat('at', at, { 'data-testid': 'laps-done', 'data-laps': view.lapsDone }),
    view.roundsToGo !== null && !view.finished ? stat('laps to go', view.roundsToGo) : null,
    el('span', {}, 'last lap ', el('b', { 'data-testid': 'last-lap' }, last ? formatTime(last.lapTime) : ''), last && last.ranking ? ` (${last.ranking})` : null),
    el('span', {}, 'speed ', el('b', { 'data-testid': 'speed' }, formatSpeed(view.speed)), ' km/h'),
    view.hasPoints ? stat('points', view.points) : null,
    view.personalBest !== null ? stat('PB', formatTime(view.personalBest)) : null,
    view.seasonBest !== null ? stat('SB', formatTime(view.seasonBest)) : null);
}

function lapTable(views) {
  const rows = Math.max(0, ...views.map((v) => Math.max(v.totalLaps ?? 0, v.lapsDone)));
  if (!rows) return null;
  const body = [];
  for (let i = 0; i < rows; i += 1) {
    const length = views.map((v) => v.laps[i]?.passedLength ?? v.schedule[i]?.passedLength ?? null).find((x) => x !== null) ?? null;
    const label = length !== null ? `${length} m` : `lap ${i + 1}`;
    const latest = views.some((v) => v.lapsDone === i + 1);
    const cells = views.map((v) => {
      const lap = v.laps[i];
      if (!lap) return [el('td', { class: 'pending' }), el('td', { class: 'pending' })];
      return [animated(el('td', { class: 'lap-time', 'data-race-id': v.id, 'data-lap-index': i }, formatTime(lap.lapTime)), v.id, i, 'lap'), el('td', { class: 'lap-total' }, formatTime(lap.time))];
    });
    body.push(el('tr', { class: latest ? 'latest' : null }, el('td', {}, label), cells));
  }
  return el('table', { class: 'laps' },
    el('thead', {},
      el('tr', {}, el('th'), views.map((v) => el('th', { colspan: 2 }, v.competitor.shortName || v.competitor.name))),
      el('tr', {}, el('th'), views.map(() => [el('th', {}, 'lap'), el('th', {}, 'time')]))),
    el('tbody', {}, body));
}

function heatTitle(heat, kind) {
  const word = kind === 'pairs' ? 'Pair' : 'Heat';
  const round = heat.round > 1 ? ` · round ${heat.round}` : '';
  const committed = state.committed.some((c) => c.key === heat.key);
  const views = heat.races.map(raceView);
  const allFinished = views.length > 0 && views.every((v) => v.finished);
  const tag = (text, live = false) => el('span', { class: live ? 'tag live' : 'tag' }, text);
  const status = heat.active
    ? allFinished ? tag('finished')
      : heat.started || views.some((v) => v.lapsDone) ? tag('racing', true) : tag('ready')
    : committed ? tag('committed') : tag('finished');
  return el('h2', {}, `${word} ${heat.number}${round} `, status, heat.cleared ? [' ', tag('restarted')] : null);
}

function renderPairsHeat(heat, kind) {
  // Inner lane first, as on the rink's screens.
  const views = heat.races.map(raceView).sort((a, b) => (a.lane === 'inner' ? 0 : 1) - (b.lane === 'inner' ? 0 : 1));
  const races = views.map((v) => el('div', { class: 'race', 'data-race-id': v.id, 'data-lane': v.lane ?? '' }, laneBadge(v), who(v), clock(v), stats(v)));
  return el('section', { class: 'heat', 'data-heat': heat.key, 'data-active': String(heat.active) }, heatTitle(heat, kind), races, lapTable(views));
}

function renderMassStart(heat) {
  const views = fieldOrder(heat.races.map(raceView));
  const hasPoints = views.some((v) => v.hasPoints);
  const rows = views.map((v, i) => el('tr', { 'data-race-id': v.id },
    el('td', {}, i + 1),
    el('td', {}, v.competitor.startNumber ?? ''),
    el('td', { class: 'name', 'data-testid': 'race-name' }, v.competitor.name),
    el('td', {}, v.competitor.nationality),
    el('td', { 'data-testid': 'laps-done', 'data-laps': v.lapsDone }, v.lapsDone, v.totalLaps ? `/${v.totalLaps}` : null),
    animated(el('td', { class: 'lap-time', 'data-race-id': v.id, 'data-lap-index': v.lapsDone - 1 }, v.lastLap ? formatTime(v.lastLap.lapTime) : ''), v.id, v.lapsDone - 1, 'lap'),
    el('td', {}, v.lastLap ? formatTime(v.lastLap.time) : ''),
    hasPoints ? el('td', {}, v.points || '') : null,
    el('td', {}, formatSpeed(v.speed)),
    animated(el('td', {}, v.finishTime !== null ? formatTime(v.finishTime) : ''), v.id, v.lapsDone - 1, 'finish')));
  const headings = ['pos', 'no.', 'name', 'nat', 'laps', 'last lap', 'time', hasPoints ? 'points' : null, 'km/h', 'finish'];
  return el('section', { class: 'heat field', 'data-heat': heat.key, 'data-active': String(heat.active) }, heatTitle(heat, 'massStart'),
    el('table', {},
      el('thead', {}, el('tr', {}, headings.filter(Boolean).map((h) => el('th', { class: h === 'name' ? 'name' : null }, h)))),
      el('tbody', {}, rows)));
}

function renderResults() {
  const rows = distanceResults(state);
  if (!rows.length) return null;
  const hasPoints = rows.some((r) => r.points !== null);
  const body = rows.map((r) => el('tr', { 'data-race-id': r.id },
    el('td', {}, r.rank ?? ''),
    el('td', { class: 'name' }, r.competitor.name),
    el('td', {}, r.competitor.nationality),
    el('td', {}, r.heatNumber),
    el('td', {}, r.lane === 0 ? 'I' : r.lane === 1 ? 'O' : ''),
    hasPoints ? el('td', {}, r.points ?? '') : null,
    el('td', { 'data-testid': 'result-time' }, r.time !== null && r.invalidReason === null ? formatTime(r.time) : (r.invalidReason ?? '—'))));
  const headings = ['rank', 'name', 'nat', 'heat', 'lane', hasPoints ? 'points' : null, 'time'];
  return el('section', { class: 'results', 'data-testid': 'results' },
    el('h2', {}, 'Results'),
    el('table', {},
      el('thead', {}, el('tr', {}, headings.filter(Boolean).map((h) => el('th', { class: h === 'name' ? 'name' : null }, h)))),
      el('tbody', {}, body)));
}

function render() {
  // Set with the board, so that a test reading both sees the board of that position.
  document.body.dataset.stream = stream.live ? 'live' : 'catching-up';
  document.body.dataset.position = stream.position === null ? '' : String(stream.position);
  dropFinishedAnimations();
  const competition = state.competition;
  elements.name.textContent = competition
    ? `${competition.name}${competition.venue ? ` · ${competition.venue}` : ''}`
    : selectedId ? `waiting for ${selectedId}…` : 'no competition chosen';
  document.title = competition ? `${state.distance ? `${state.distance.name} · ` : ''}${competition.name}` : 'ovalstream scoreboard';
  if (!selectedId) {
    elements.board.replaceChildren(el('p', { class: 'empty' }, competitions.size ? 'Choose a competition above.' : 'Waiting for a competition to be activated…'));
    renderConnection();
    return;
  }
  const distance = state.distance;
  if (!distance) {
    elements.board.replaceChildren(el('p', { class: 'empty' }, competition ? 'No distance active yet.' : 'Waiting for the competition…'));
    renderConnection();
    return;
  }
  const kind = distance.kind;
  const heats = state.heats.map((heat) => (kind === 'massStart' || heat.races.length > 2 ? renderMassStart(heat) : renderPairsHeat(heat, kind)));
  // Through append(), which skips a null (replaceChildren would show "null" when there are no results).
  const board = document.createDocumentFragment();
  append(board, [
    el('div', { class: 'distance', 'data-distance': distance.id },
      el('h1', { 'data-testid': 'distance-name' }, distance.name),
      el('span', { class: 'meta' }, distanceLabel(distance), distance.active ? null : ' · closed')),
    el('div', { class: 'heats' }, heats.length ? heats : el('p', { class: 'empty' }, 'No heat on the ice.')),
    renderResults(),
  ]);
  elements.board.replaceChildren(board);
  renderConnection();
}

// ---- start -------------------------------------------------------------------------------------------------

elements.picker.addEventListener('change', () => select(elements.picker.value || null));
window.addEventListener('hashchange', () => {
  const { token } = readFragment();
  if (token !== accessToken) {
    // A new token: both sockets connect again with it (the board resumes where it stands).
    accessToken = token;
    delete document.body.dataset.tokenExpired;
    listSocket.reconnectNow();
    if (competitionSocket) competitionSocket.reconnectNow();
  }
  const id = hashId();
  if (id && id !== selectedId) select(id);
});

const listSocket = new ReconnectingSocket(`${serverBase}/v1/competitions`, {
  onOpen: () => {},
  onFrame: onCompetitionFrame,
  onState: (s) => {
    listSocketState = s;
    renderConnection();
  },
});

document.body.dataset.resumes = '0';
document.body.dataset.resets = '0';
const initial = hashId();
if (initial) select(initial);
render();
