// The scoreboard page: the sockets, the competition choice and the rendering. The event logic is in
// scoreboard-state.js (no DOM), which folds the snapshot's frames and the live ones alike.
//
// Query parameters: ?server=ws://host:port to read another aggregator than the page's own host.
import {
  initialState,
  applyEvent,
  raceView,
  fieldOrder,
  distanceResults,
  distanceLabel,
  formatTime,
  formatSpeed,
} from './scoreboard-state.js';

const BACKOFF_FIRST_MS = 500;
const BACKOFF_CAP_MS = 15000;
// A socket that stayed open this long counts as a success: the next loss starts the backoff afresh.
const STABLE_AFTER_MS = 5000;
// With no competition in the URL, wait this long for the list to settle before auto-picking the only one.
const AUTO_PICK_SETTLE_MS = 400;

const params = new URLSearchParams(location.search);
const serverBase = (params.get('server') || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`).replace(/\/+$/, '');

const elements = {
  name: document.getElementById('competition-name'),
  picker: document.getElementById('competition-picker'),
  connection: document.getElementById('connection'),
  banner: document.getElementById('banner'),
  board: document.getElementById('board'),
};

// ---- a websocket that reconnects with capped exponential backoff ------------------------------------------

class ReconnectingSocket {
  constructor(url, { onOpen, onFrame, onState }) {
    this.url = url;
    this.onOpen = onOpen;
    this.onFrame = onFrame;
    this.onState = onState;
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
      socket = new WebSocket(this.url);
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
      if (openedAt && Date.now() - openedAt >= STABLE_AFTER_MS) this.attempt = 0;
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
}

// ---- competitions list and choice --------------------------------------------------------------------------

const competitions = new Map(); // id -> {id, name}
let competitionSocket = null;
let listSocketState = { state: 'connecting' };
let boardSocketState = { state: 'idle' };
let state = initialState();
let selectedId = null;
let autoPickTimer = null;

function hashId() {
  const id = decodeURIComponent(location.hash.replace(/^#/, ''));
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : null;
}

function renderPicker() {
  const options = [...competitions.values()];
  const current = selectedId;
  const html = [`<option value="">${options.length ? 'choose a competition' : 'waiting for competitions…'}</option>`];
  for (const c of options) {
    html.push(`<option value="${escapeHtml(c.id)}"${c.id === current ? ' selected' : ''}>${escapeHtml(c.name)}</option>`);
  }
  if (current && !competitions.has(current)) html.push(`<option value="${escapeHtml(current)}" selected>${escapeHtml(current)}</option>`);
  elements.picker.innerHTML = html.join('');
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
  if (id && location.hash !== `#${id}`) history.replaceState(null, '', `#${id}`);
  if (!id) history.replaceState(null, '', location.pathname + location.search);
  if (competitionSocket) competitionSocket.close();
  competitionSocket = null;
  state = initialState();
  boardSocketState = { state: 'idle' };
  renderPicker();
  if (id) {
    competitionSocket = new ReconnectingSocket(`${serverBase}/v1/competitions/${encodeURIComponent(id)}`, {
      // Every (re)connection starts with a snapshot: start from an empty state.
      onOpen: () => {
        state = initialState();
        scheduleRender();
      },
      onFrame: (event) => {
        if (applyEvent(state, event)) scheduleRender();
        document.body.dataset.frames = String(state.events);
      },
      onState: (s) => {
        boardSocketState = s;
        renderConnection();
      },
    });
  }
  scheduleRender();
}

// ---- rendering ---------------------------------------------------------------------------------------------

function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
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

function laneBadge(view) {
  const letter = view.lane === 'inner' ? 'I' : view.lane === 'outer' ? 'O' : '–';
  return `<div class="lane ${view.lane ?? 'none'}" title="${view.lane ?? 'lane unknown'} lane" data-testid="lane">${letter}</div>`;
}

function who(view) {
  const c = view.competitor;
  const members = c.members.length ? `<div class="members">${c.members.map(escapeHtml).join(' · ')}</div>` : '';
  return `<div class="who"><span class="no">${c.startNumber ?? ''}</span><span class="name" data-testid="race-name">${escapeHtml(c.name || c.shortName || '(unknown)')}</span><span class="nat" data-testid="race-nationality">${escapeHtml(c.nationality)}</span>${members}</div>`;
}

function clock(view) {
  if (view.finishTime !== null) return `<div class="clock final" data-testid="finish-time" title="finish time">${formatTime(view.finishTime)}</div>`;
  return `<div class="clock" data-testid="elapsed" title="time at the latest passing">${view.elapsed ? formatTime(view.elapsed) : ''}</div>`;
}

function stats(view) {
  const last = view.lastLap;
  const at = last && last.passedLength !== null ? `${last.passedLength} m` : view.lapsDone ? `lap ${view.lapsDone}` : 'start';
  return `<div class="stats">
    <span>at <b data-testid="laps-done" data-laps="${view.lapsDone}">${at}</b></span>
    ${view.roundsToGo !== null && !view.finished ? `<span>laps to go <b>${view.roundsToGo}</b></span>` : ''}
    <span>last lap <b data-testid="last-lap">${last ? formatTime(last.lapTime) : ''}</b>${last && last.ranking ? ` (${last.ranking})` : ''}</span>
    <span>speed <b data-testid="speed">${formatSpeed(view.speed)}</b> km/h</span>
    ${view.hasPoints ? `<span>points <b>${view.points}</b></span>` : ''}
    ${view.personalBest !== null ? `<span>PB <b>${formatTime(view.personalBest)}</b></span>` : ''}
    ${view.seasonBest !== null ? `<span>SB <b>${formatTime(view.seasonBest)}</b></span>` : ''}
  </div>`;
}

function lapTable(views) {
  const rows = Math.max(0, ...views.map((v) => Math.max(v.totalLaps ?? 0, v.lapsDone)));
  if (!rows) return '';
  const head = views.map((v) => `<th colspan="2">${escapeHtml(v.competitor.shortName || v.competitor.name)}</th>`).join('');
  const body = [];
  for (let i = 0; i < rows; i += 1) {
    const length = views.map((v) => v.laps[i]?.passedLength ?? v.schedule[i]?.passedLength ?? null).find((x) => x !== null) ?? null;
    const label = length !== null ? `${length} m` : `lap ${i + 1}`;
    const latest = views.some((v) => v.lapsDone === i + 1);
    const cells = views.map((v) => {
      const lap = v.laps[i];
      if (!lap) return '<td class="pending"></td><td class="pending"></td>';
      return `<td class="lap-time" data-race-id="${escapeHtml(v.id)}" data-lap-index="${i}">${formatTime(lap.lapTime)}</td><td class="lap-total">${formatTime(lap.time)}</td>`;
    });
    body.push(`<tr${latest ? ' class="latest"' : ''}><td>${label}</td>${cells.join('')}</tr>`);
  }
  return `<table class="laps"><thead><tr><th></th>${head}</tr><tr><th></th>${views.map(() => '<th>lap</th><th>time</th>').join('')}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

function heatTitle(heat, kind) {
  const word = kind === 'pairs' ? 'Pair' : 'Heat';
  const round = heat.round > 1 ? ` · round ${heat.round}` : '';
  const committed = state.committed.some((c) => c.key === heat.key);
  const views = heat.races.map(raceView);
  const allFinished = views.length > 0 && views.every((v) => v.finished);
  const tag = heat.active
    ? allFinished ? '<span class="tag">finished</span>'
      : heat.started || views.some((v) => v.lapsDone) ? '<span class="tag live">racing</span>' : '<span class="tag">ready</span>'
    : committed ? '<span class="tag">committed</span>' : '<span class="tag">finished</span>';
  return `<h2>${word} ${heat.number}${round} ${tag}${heat.cleared ? ' <span class="tag">restarted</span>' : ''}</h2>`;
}

function renderPairsHeat(heat, kind) {
  // Inner lane first, as on the rink's screens.
  const views = heat.races.map(raceView).sort((a, b) => (a.lane === 'inner' ? 0 : 1) - (b.lane === 'inner' ? 0 : 1));
  const races = views
    .map((v) => `<div class="race" data-race-id="${escapeHtml(v.id)}" data-lane="${v.lane ?? ''}">${laneBadge(v)}${who(v)}${clock(v)}${stats(v)}</div>`)
    .join('');
  return `<section class="heat" data-heat="${heat.key}" data-active="${heat.active}">${heatTitle(heat, kind)}${races}${lapTable(views)}</section>`;
}

function renderMassStart(heat) {
  const views = fieldOrder(heat.races.map(raceView));
  const hasPoints = views.some((v) => v.hasPoints);
  const rows = views
    .map(
      (v, i) => `<tr data-race-id="${escapeHtml(v.id)}"><td>${i + 1}</td><td>${v.competitor.startNumber ?? ''}</td>
        <td class="name" data-testid="race-name">${escapeHtml(v.competitor.name)}</td><td>${escapeHtml(v.competitor.nationality)}</td>
        <td data-testid="laps-done" data-laps="${v.lapsDone}">${v.lapsDone}${v.totalLaps ? `/${v.totalLaps}` : ''}</td>
        <td class="lap-time" data-race-id="${escapeHtml(v.id)}" data-lap-index="${v.lapsDone - 1}">${v.lastLap ? formatTime(v.lastLap.lapTime) : ''}</td>
        <td>${v.lastLap ? formatTime(v.lastLap.time) : ''}</td>
        ${hasPoints ? `<td>${v.points || ''}</td>` : ''}
        <td>${formatSpeed(v.speed)}</td><td>${v.finishTime !== null ? formatTime(v.finishTime) : ''}</td></tr>`,
    )
    .join('');
  return `<section class="heat field" data-heat="${heat.key}" data-active="${heat.active}">${heatTitle(heat, 'massStart')}
    <table><thead><tr><th>pos</th><th>no.</th><th class="name">name</th><th>nat</th><th>laps</th><th>last lap</th><th>time</th>${hasPoints ? '<th>points</th>' : ''}<th>km/h</th><th>finish</th></tr></thead>
    <tbody>${rows}</tbody></table></section>`;
}

function renderResults() {
  const rows = distanceResults(state);
  if (!rows.length) return '';
  const hasPoints = rows.some((r) => r.points !== null);
  const body = rows
    .map(
      (r) => `<tr data-race-id="${escapeHtml(r.id)}"><td>${r.rank ?? ''}</td><td class="name">${escapeHtml(r.competitor.name)}</td>
        <td>${escapeHtml(r.competitor.nationality)}</td><td>${r.heatNumber}</td><td>${r.lane === 0 ? 'I' : r.lane === 1 ? 'O' : ''}</td>
        ${hasPoints ? `<td>${r.points ?? ''}</td>` : ''}
        <td data-testid="result-time">${r.time !== null && r.invalidReason === null ? formatTime(r.time) : escapeHtml(r.invalidReason ?? '—')}</td></tr>`,
    )
    .join('');
  return `<section class="results" data-testid="results"><h2>Results</h2><table><thead><tr><th>rank</th><th class="name">name</th><th>nat</th><th>heat</th><th>lane</th>${hasPoints ? '<th>points</th>' : ''}<th>time</th></tr></thead><tbody>${body}</tbody></table></section>`;
}

function render() {
  const competition = state.competition;
  elements.name.textContent = competition
    ? `${competition.name}${competition.venue ? ` · ${competition.venue}` : ''}`
    : selectedId ? `waiting for ${selectedId}…` : 'no competition chosen';
  document.title = competition ? `${state.distance ? `${state.distance.name} · ` : ''}${competition.name}` : 'ovalstream scoreboard';
  if (!selectedId) {
    elements.board.innerHTML = `<p class="empty">${competitions.size ? 'Choose a competition above.' : 'Waiting for a competition to be activated…'}</p>`;
    renderConnection();
    return;
  }
  const distance = state.distance;
  if (!distance) {
    elements.board.innerHTML = `<p class="empty">${competition ? 'No distance active yet.' : 'Waiting for the competition…'}</p>`;
    renderConnection();
    return;
  }
  const kind = distance.kind;
  const heats = state.heats
    .map((heat) => (kind === 'massStart' || heat.races.length > 2 ? renderMassStart(heat) : renderPairsHeat(heat, kind)))
    .join('');
  elements.board.innerHTML = `<div class="distance" data-distance="${escapeHtml(distance.id)}">
      <h1 data-testid="distance-name">${escapeHtml(distance.name)}</h1>
      <span class="meta">${escapeHtml(distanceLabel(distance))}${distance.active ? '' : ' · closed'}</span></div>
    <div class="heats">${heats || '<p class="empty">No heat on the ice.</p>'}</div>
    ${renderResults()}`;
  renderConnection();
}

// ---- start -------------------------------------------------------------------------------------------------

elements.picker.addEventListener('change', () => select(elements.picker.value || null));
window.addEventListener('hashchange', () => {
  const id = hashId();
  if (id && id !== selectedId) select(id);
});

new ReconnectingSocket(`${serverBase}/v1/competitions`, {
  onOpen: () => {},
  onFrame: onCompetitionFrame,
  onState: (s) => {
    listSocketState = s;
    renderConnection();
  },
});

const initial = hashId();
if (initial) select(initial);
render();
