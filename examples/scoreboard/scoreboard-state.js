// The scoreboard's reducer: folds the events of one competition, in the order the websocket delivers them
// (the snapshot's frames first, then live ones; the same code handles both), into what a rink screen shows.
// Pure: no DOM, no sockets, no clocks, so node's test runner checks it against recordings. At the end, the
// pure parts of the page's stream handling: control frames, the resume query, and what is new between two
// states (the page animates that, when live).
//
// It mirrors the aggregator's snapshot rules (docs/protocol.md, "The live state and the snapshot rules"),
// so applying a snapshot gives the same view as having seen every event:
// - CompetitionActivatedEvent starts afresh (the client rule of docs/protocol.md: the server follows it with
//   whatever the competition still shows); DistanceActivatedEvent starts a fresh distance.
// - HeatActivatedEvent replaces the heat's state (it carries the races so far: competitors, laps,
//   passings) and removes every deactivated heat; a deactivated heat stays shown until then.
// - HeatClearedEvent drops the heat's progress (laps, passings, speeds), keeping its competitors.
// - Laps come from the activation's `laps` plus every RaceLapAddedEvent (all kept by the snapshot); the
//   latest LastPresentedRaceLapChangedEvent, LastRaceSpeedChangedEvent and next-lap indices are only the
//   latest (the snapshot keeps no more), so nothing here depends on their history.
// - Events of a distance or heat that is not shown change nothing.
// Times in events are ticks of 100 ns.

export const TICKS_PER_SECOND = 10_000_000;
const TICKS_PER_HUNDREDTH = 100_000;
// Lap flag bit Vantage sets on passings after the finish (cool-down laps): not part of the race.
const LAP_FLAG_AFTER_FINISH = 16;

export function initialState() {
  return {
    competition: null, // {id, name, venue, starts}
    distance: null, // {id, name, number, discipline, value, valueQuantity, trackLength, active, kind}
    heats: [], // shown heats in activation order
    committed: [], // committed heats of the shown distance: {key, round, number, races: [...]}
    events: 0, // frames applied
    ignored: 0, // frames that changed nothing (other distance, unknown heat, unknown type)
  };
}

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function heatKeyOf(heat) {
  return isObject(heat) && Number.isInteger(heat.round) && Number.isInteger(heat.number)
    ? `${heat.round}.${heat.number}`
    : null;
}

function personName(value) {
  if (!isObject(value)) return null;
  const parts = [value.firstName, value.infix, value.lastName].filter((p) => typeof p === 'string' && p);
  if (parts.length) return parts.join(' ');
  for (const key of ['fullName', 'name', 'shortName']) {
    if (typeof value[key] === 'string' && value[key]) return value[key];
  }
  // A PersonCompetitor's structured name: {firstName, surnamePrefix, surname}.
  if (isObject(value.name)) {
    const named = [value.name.firstName, value.name.surnamePrefix, value.name.surname].filter((p) => typeof p === 'string' && p);
    if (named.length) return named.join(' ');
  }
  return null;
}

// The fields a screen shows of a Vantage competitor (PersonCompetitor or TeamCompetitor).
export function competitorInfo(competitor) {
  if (!isObject(competitor)) {
    return { name: '', shortName: '', nationality: '', startNumber: null, team: false, members: [] };
  }
  const members = Array.isArray(competitor.members)
    ? competitor.members
        .map((m) => personName(isObject(m) && isObject(m.member) ? m.member : isObject(m) && isObject(m.competitor) ? m.competitor : isObject(m) && isObject(m.person) ? m.person : m))
        .filter(Boolean)
    : [];
  return {
    name: personName(competitor) ?? '',
    shortName: typeof competitor.shortName === 'string' ? competitor.shortName : '',
    nationality:
      (typeof competitor.nationalityCode === 'string' && competitor.nationalityCode) ||
      (typeof competitor.clubCountryCode === 'string' && competitor.clubCountryCode) ||
      '',
    club: typeof competitor.clubShortName === 'string' ? competitor.clubShortName : '',
    startNumber: Number.isFinite(competitor.startNumber) ? competitor.startNumber : null,
    category: typeof competitor.category === 'string' ? competitor.category : '',
    team: competitor.typeName === 'TeamCompetitor' || members.length > 0,
    members,
  };
}

// "inner" (lane 0, white) or "outer" (lane 1, red), as Vantage numbers them; null when unknown.
export function laneName(lane) {
  if (lane === 0) return 'inner';
  if (lane === 1) return 'outer';
  return null;
}

function distanceKind(distance) {
  const discipline = typeof distance.discipline === 'string' ? distance.discipline : '';
  if (/MassStart/i.test(discipline)) return 'massStart';
  if (/TeamPursuit/i.test(discipline)) return 'teamPursuit';
  if (/TeamSprint/i.test(discipline)) return 'teamSprint';
  return 'pairs';
}

function newRace(id) {
  return {
    id,
    lane: null,
    color: null,
    competitor: competitorInfo(null),
    estimatedLaps: [], // [{index, passedLength, rounds, roundsToGo}]
    lapEvents: [], // the lap objects in order: {time, fixedIndex, flags, points, how}
    passings: 0,
    lastPassing: null, // {passed, speed, time, where}
    speed: null, // m/s, latest LastRaceSpeedChangedEvent (or the latest passing with a speed)
    presented: null, // latest LastPresentedRaceLapChangedEvent.lap: {index, lapTime, ranking, time, passedLength}
    nextLap: null, // latest RaceNextLapIndexChangedEvent: {index, passedLength, rounds, roundsToGo}
    started: false,
    personalBest: null, // ticks, when Vantage sends one
    seasonBest: null,
  };
}

function lapOf(value) {
  if (!isObject(value) || !Number.isFinite(value.time)) return null;
  return {
    time: value.time,
    fixedIndex: Number.isInteger(value.fixedIndex) ? value.fixedIndex : null,
    flags: Number.isInteger(value.flags) ? value.flags : 0,
    points: Number.isFinite(value.points) ? value.points : null,
    how: isObject(value.presentationSource) ? value.presentationSource.how ?? null : null,
  };
}

function passingOf(value) {
  if (!isObject(value)) return null;
  return {
    passed: Number.isFinite(value.passed) ? value.passed : null,
    speed: Number.isFinite(value.speed) ? value.speed : null,
    time: Number.isFinite(value.time) ? value.time : null,
    where: value.where ?? null,
  };
}

function nextLapOf(event) {
  return Number.isInteger(event.index)
    ? { index: event.index, passedLength: event.passedLength ?? null, rounds: event.rounds ?? null, roundsToGo: event.roundsToGo ?? null }
    : null;
}

function raceFromEntry(entry) {
  const raceObject = isObject(entry.race) ? entry.race : {};
  const race = newRace(typeof raceObject.id === 'string' ? raceObject.id : '');
  race.lane = Number.isInteger(raceObject.lane) ? raceObject.lane : null;
  race.color = Number.isInteger(raceObject.color) ? raceObject.color : null;
  race.competitor = competitorInfo(raceObject.competitor);
  race.personalBest = Number.isFinite(raceObject.personalBest) ? raceObject.personalBest : null;
  race.seasonBest = Number.isFinite(raceObject.seasonBest) ? raceObject.seasonBest : null;
  if (Array.isArray(entry.estimatedLaps)) {
    race.estimatedLaps = entry.estimatedLaps
      .filter(isObject)
      .map((l) => ({ index: l.index, passedLength: l.passedLength ?? null, rounds: l.rounds ?? null, roundsToGo: l.roundsToGo ?? null }));
  }
  return race;
}

// Applies the activation's race progress (laps, passings, start) to `race`.
function applyEmbeddedProgress(race, entry) {
  if (Array.isArray(entry.laps)) {
    for (const lap of entry.laps) {
      const parsed = lapOf(lap);
      if (parsed) race.lapEvents.push(parsed);
    }
  }
  if (Array.isArray(entry.passings)) {
    for (const passing of entry.passings) {
      const parsed = passingOf(passing);
      if (!parsed) continue;
      race.passings += 1;
      race.lastPassing = parsed;
      if (parsed.speed !== null) race.speed = parsed.speed;
    }
  }
  if (isObject(entry.start)) race.started = true;
}

function clearProgress(race) {
  race.lapEvents = [];
  race.passings = 0;
  race.lastPassing = null;
  race.speed = null;
  race.presented = null;
  race.nextLap = null;
  race.started = false;
}

function committedFrom(event, key) {
  const races = Array.isArray(event.races) ? event.races : [];
  return {
    key,
    round: event.heat.round,
    number: event.heat.number,
    races: races
      .filter((entry) => isObject(entry) && isObject(entry.race))
      .map((entry) => {
        const race = entry.race;
        const time = isObject(race.time) && Number.isFinite(race.time.time) ? race.time.time : null;
        const result = isObject(race.result) ? race.result : {};
        return {
          id: typeof race.id === 'string' ? race.id : '',
          lane: Number.isInteger(race.lane) ? race.lane : null,
          competitor: competitorInfo(race.competitor),
          time,
          status: Number.isInteger(result.status) ? result.status : null,
          invalidReason: result.timeInvalidReason ?? null,
          points: Number.isFinite(result.points) ? result.points : null,
        };
      }),
  };
}

function findHeat(state, event) {
  if (!state.distance || event.distanceId !== state.distance.id) return null;
  const key = heatKeyOf(event.heat);
  return key ? state.heats.find((h) => h.key === key) ?? null : null;
}

function findRace(heat, raceId) {
  if (typeof raceId !== 'string' || !raceId) return null;
  let race = heat.races.find((r) => r.id === raceId);
  if (!race) {
    // A race the activation did not list: shown by its id, like the aggregator's state view.
    race = newRace(raceId);
    heat.races.push(race);
  }
  return race;
}

// Folds one event (a parsed frame) into `state`. Returns true when it changed something.
export function applyEvent(state, event) {
  state.events += 1;
  const changed = isObject(event) && typeof event.typeName === 'string' && apply(state, event);
  if (!changed) state.ignored += 1;
  return changed;
}

function apply(state, event) {
  switch (event.typeName) {
    case 'CompetitionActivatedEvent': {
      const competition = isObject(event.competition) ? event.competition : {};
      const fresh = initialState();
      Object.assign(state, fresh, { events: state.events, ignored: state.ignored });
      state.competition = {
        id: event.competitionId,
        name: typeof competition.name === 'string' ? competition.name : event.competitionId,
        venue: isObject(competition.venue) && typeof competition.venue.name === 'string' ? competition.venue.name : '',
        starts: competition.starts ?? null,
      };
      return true;
    }
    case 'DistanceActivatedEvent': {
      const distance = isObject(event.distance) ? event.distance : {};
      state.distance = {
        id: event.distanceId,
        name: typeof distance.name === 'string' ? distance.name : '',
        number: distance.number ?? null,
        discipline: typeof distance.discipline === 'string' ? distance.discipline : '',
        value: Number.isFinite(distance.value) ? distance.value : null,
        valueQuantity: distance.valueQuantity ?? null, // 0: metres, 1: laps
        trackLength: Number.isFinite(distance.trackLength) ? distance.trackLength : null,
        active: true,
      };
      state.distance.kind = distanceKind(state.distance);
      state.heats = [];
      state.committed = [];
      return true;
    }
    case 'DistanceDeactivatedEvent':
      if (!state.distance || event.distanceId !== state.distance.id) return false;
      state.distance.active = false;
      return true;
    case 'HeatCommittedEvent': {
      if (!state.distance || event.distanceId !== state.distance.id) return false;
      const key = heatKeyOf(event.heat);
      if (!key) return false;
      // A heat committed again is a correction: it replaces the earlier result.
      state.committed = state.committed.filter((c) => c.key !== key);
      state.committed.push(committedFrom(event, key));
      return true;
    }
    case 'HeatActivatedEvent': {
      if (!state.distance || event.distanceId !== state.distance.id) return false;
      const key = heatKeyOf(event.heat);
      if (!key) return false;
      state.heats = state.heats.filter((h) => h.key !== key && h.active);
      const heat = {
        key,
        round: event.heat.round,
        number: event.heat.number,
        active: true,
        started: false,
        cleared: false,
        nextLap: null,
        races: [],
      };
      for (const entry of Array.isArray(event.races) ? event.races : []) {
        if (!isObject(entry)) continue;
        const race = raceFromEntry(entry);
        if (!race.id) continue;
        applyEmbeddedProgress(race, entry);
        if (race.started) heat.started = true;
        heat.races.push(race);
      }
      state.heats.push(heat);
      return true;
    }
    default:
      break;
  }

  const heat = findHeat(state, event);
  if (!heat) return false;
  switch (event.typeName) {
    case 'HeatDeactivatedEvent':
      heat.active = false;
      return true;
    case 'HeatStartedEvent':
      heat.started = true;
      for (const race of heat.races) race.started = true;
      return true;
    case 'HeatClearedEvent':
      heat.started = false;
      heat.cleared = true;
      heat.nextLap = null;
      for (const race of heat.races) clearProgress(race);
      return true;
    case 'HeatNextLapIndexChangedEvent':
      heat.nextLap = nextLapOf(event);
      return true;
    default:
      break;
  }

  const race = findRace(heat, event.raceId);
  if (!race) return false;
  switch (event.typeName) {
    case 'RacePassingAddedEvent': {
      const passing = passingOf(event.passing);
      if (!passing) return false;
      race.passings += 1;
      race.lastPassing = passing;
      return true;
    }
    case 'LastRaceSpeedChangedEvent': {
      const passing = passingOf(event.passing);
      if (!passing) return false;
      if (passing.speed !== null) race.speed = passing.speed;
      if (!race.lastPassing || (passing.time ?? 0) >= (race.lastPassing.time ?? 0)) race.lastPassing = passing;
      return true;
    }
    case 'RaceLapAddedEvent': {
      const lap = lapOf(event.lap);
      if (!lap) return false;
      race.lapEvents.push(lap);
      return true;
    }
    case 'LastPresentedRaceLapChangedEvent':
      if (!isObject(event.lap) || !Number.isInteger(event.lap.index)) return false;
      race.presented = {
        index: event.lap.index,
        lapTime: Number.isFinite(event.lap.lapTime) ? event.lap.lapTime : null,
        ranking: Number.isInteger(event.lap.ranking) ? event.lap.ranking : null,
        time: Number.isFinite(event.lap.time) ? event.lap.time : null,
        passedLength: event.lap.passedLength ?? null,
        roundsToGo: event.lap.roundsToGo ?? null,
      };
      return true;
    case 'RaceNextLapIndexChangedEvent':
      race.nextLap = nextLapOf(event);
      return true;
    default:
      return false;
  }
}

// ---- derived values (pure) -------------------------------------------------------------------------------

// Truncates to hundredths, as official speed-skating times are.
export function truncateToHundredths(ticks) {
  return Math.floor(ticks / TICKS_PER_HUNDREDTH) * TICKS_PER_HUNDREDTH;
}

// "1:52.34" or "34.56" (truncated to hundredths); "" for null.
export function formatTime(ticks) {
  if (!Number.isFinite(ticks) || ticks < 0) return '';
  const hundredths = Math.floor(ticks / TICKS_PER_HUNDREDTH);
  const seconds = Math.floor(hundredths / 100);
  const fraction = String(hundredths % 100).padStart(2, '0');
  if (seconds < 60) return `${seconds}.${fraction}`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, '0')}.${fraction}`;
}

// km/h with one decimal from m/s; "" for null.
export function formatSpeed(metresPerSecond) {
  return Number.isFinite(metresPerSecond) ? (metresPerSecond * 3.6).toFixed(1) : '';
}

// The race's laps: [{index, time, lapTime, passedLength, ranking, points}]. A lap with a fixedIndex (a
// photo-finish correction) replaces the lap at that index; laps flagged as after the finish, and laps past
// the last scheduled one, are not part of the race. Lap times are differences of the truncated passing
// times (what Vantage presents); the presented lap's own lapTime and ranking win for its index.
export function raceLaps(race) {
  const total = race.estimatedLaps.length || Infinity;
  const laps = [];
  for (const lap of race.lapEvents) {
    if (lap.flags & LAP_FLAG_AFTER_FINISH) continue;
    if (lap.fixedIndex !== null) {
      if (lap.fixedIndex >= 0 && lap.fixedIndex <= laps.length && lap.fixedIndex < total) {
        laps[lap.fixedIndex] = { ...lap };
      }
      continue;
    }
    if (laps.length < total) laps.push({ ...lap });
  }
  let previous = 0;
  return laps.map((lap, index) => {
    const truncated = truncateToHundredths(lap.time);
    const estimated = race.estimatedLaps[index];
    const presented = race.presented && race.presented.index === index ? race.presented : null;
    const result = {
      index,
      time: lap.time,
      lapTime: presented && presented.lapTime !== null ? presented.lapTime : truncated - previous,
      passedLength: estimated ? estimated.passedLength : null,
      ranking: presented ? presented.ranking : null,
      points: lap.points,
    };
    previous = truncated;
    return result;
  });
}

// Everything a screen shows of one race, derived from its state.
export function raceView(race) {
  const laps = raceLaps(race);
  const total = race.estimatedLaps.length || null;
  const last = laps.length ? laps[laps.length - 1] : null;
  const finished = total !== null && laps.length >= total;
  const elapsed = Math.max(last ? last.time : 0, race.lastPassing && race.lastPassing.time !== null ? race.lastPassing.time : 0);
  const lastEstimated = total ? race.estimatedLaps[total - 1] : null;
  const nextIndex = laps.length;
  const upcoming = total && nextIndex < total ? race.estimatedLaps[nextIndex] : null;
  return {
    id: race.id,
    lane: laneName(race.lane),
    color: race.color,
    competitor: race.competitor,
    laps,
    lapsDone: laps.length,
    totalLaps: total,
    lastLap: last,
    schedule: race.estimatedLaps,
    roundsToGo: upcoming ? upcoming.roundsToGo : finished ? 0 : null,
    nextPassedLength: upcoming ? upcoming.passedLength : null,
    distanceLength: lastEstimated ? lastEstimated.passedLength : null,
    speed: race.speed,
    elapsed: elapsed > 0 ? elapsed : null,
    finished,
    finishTime: finished ? last.time : null,
    points: laps.reduce((sum, lap) => (lap.points !== null ? sum + lap.points : sum), 0),
    hasPoints: laps.some((lap) => lap.points !== null),
    passings: race.passings,
    personalBest: race.personalBest,
    seasonBest: race.seasonBest,
  };
}

// A heat's races for a mass start: ordered by laps done, then by who crossed the latest lap line first,
// then by distance passed since.
export function fieldOrder(raceViews) {
  return [...raceViews].sort((a, b) => {
    if (a.lapsDone !== b.lapsDone) return b.lapsDone - a.lapsDone;
    const at = a.lastLap ? a.lastLap.time : Infinity;
    const bt = b.lastLap ? b.lastLap.time : Infinity;
    if (at !== bt) return at - bt;
    return (a.competitor.startNumber ?? Infinity) - (b.competitor.startNumber ?? Infinity);
  });
}

// The committed results of the shown distance, ranked: by time (points first in a mass start, when
// given); races without a valid time last, unranked.
export function distanceResults(state) {
  const rows = [];
  for (const heat of state.committed) {
    for (const race of heat.races) rows.push({ ...race, heatKey: heat.key, heatNumber: heat.number, round: heat.round });
  }
  const byPoints = state.distance && state.distance.kind === 'massStart' && rows.some((r) => r.points !== null);
  const valid = (r) => r.time !== null && r.invalidReason === null;
  rows.sort((a, b) => {
    if (valid(a) !== valid(b)) return valid(a) ? -1 : 1;
    if (byPoints && (a.points ?? 0) !== (b.points ?? 0)) return (b.points ?? 0) - (a.points ?? 0);
    return (a.time ?? Infinity) - (b.time ?? Infinity) || a.heatNumber - b.heatNumber;
  });
  let rank = 0;
  let previous = null;
  rows.forEach((row, i) => {
    if (!valid(row)) {
      row.rank = null;
      return;
    }
    const key = byPoints ? `${row.points}|${truncateToHundredths(row.time)}` : `${truncateToHundredths(row.time)}`;
    if (key !== previous) rank = i + 1;
    previous = key;
    row.rank = rank;
  });
  return rows;
}

// "500 m", "8 laps" (a distance in laps), "" when unknown.
export function distanceLabel(distance) {
  if (!distance || distance.value === null) return '';
  return distance.valueQuantity === 1 ? `${distance.value} laps` : `${distance.value} m`;
}

// ---- positions and resume (pure) -------------------------------------------------------------------------
// The aggregator's opt-in control frames (docs/protocol.md, "Positions and resume"): objects with the key
// "ovalstream". They are not events: the page reads them with controlFrame and never folds them.

// The aggregator's epochs: what it accepts back in a query, so a resume URL never needs escaping.
const EPOCH = /^[A-Za-z0-9_-]{1,64}$/;

function isPosition(value) {
  return Number.isSafeInteger(value) && value >= 0;
}

// A control frame as {kind: 'live'|'position'|'reset'|'unknown', position, epoch} (position and epoch null
// when absent or malformed); null when `frame` is not a control frame.
export function controlFrame(frame) {
  if (!isObject(frame) || !Object.hasOwn(frame, 'ovalstream')) return null;
  return {
    kind: ['live', 'position', 'reset'].includes(frame.ovalstream) ? frame.ovalstream : 'unknown',
    position: isPosition(frame.position) ? frame.position : null,
    epoch: typeof frame.epoch === 'string' && EPOCH.test(frame.epoch) ? frame.epoch : null,
  };
}

// The query of a competition socket: a resume after `position` of `epoch` when both are known and valid
// (a malformed one would only earn a 400, again and again), else the positions alone.
export function streamQuery(position, epoch) {
  if (isPosition(position) && typeof epoch === 'string' && EPOCH.test(epoch)) return `?since=${position}&epoch=${epoch}`;
  return '?positions=1';
}

// ---- what is new between two states (for animations) ---------------------------------------------------

// Each shown race's progress: Map raceId -> {lapsDone, finished}, counted as raceView counts them.
export function lapProgress(state) {
  const progress = new Map();
  for (const heat of state.heats) {
    for (const race of heat.races) {
      const lapsDone = raceLaps(race).length;
      const total = race.estimatedLaps.length;
      progress.set(race.id, { lapsDone, finished: total > 0 && lapsDone >= total });
    }
  }
  return progress;
}

// The laps and finishes that are new from `before` to `after` (two lapProgress maps), in order:
// [{raceId, lapIndex, kind: 'lap'|'finish'}]; a finish names the race's last lap. Only races shown in both
// count: a race that appears (a heat activated with its laps so far, a competition re-activated) is
// restored, not skated, and a race with fewer laps (a cleared heat, a photo-finish fix) has nothing new.
export function newProgress(before, after) {
  const fresh = [];
  for (const [raceId, now] of after) {
    const then = before.get(raceId);
    if (!then) continue;
    for (let i = then.lapsDone; i < now.lapsDone; i += 1) fresh.push({ raceId, lapIndex: i, kind: 'lap' });
    if (now.finished && !then.finished) fresh.push({ raceId, lapIndex: now.lapsDone - 1, kind: 'finish' });
  }
  return fresh;
}
