// Unit tests of the scoreboard's reducer (examples/scoreboard/scoreboard-state.js), run by `node --test`:
// synthetic event sequences for each rule, the real Vantage recording (skipped with a message when
// absent), and the example recordings in examples/ (skipped when the simulator has not produced them).
// Also the page's pure stream helpers: control frames, the resume query, and what is new between two
// states (what the page animates when live).
// Environment: OVALSTREAM_DATA_DIR (the real recordings; default ../shared/data/vantage beside the repo),
// OVALSTREAM_EXAMPLES_DIR (default examples/).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  initialState,
  applyEvent,
  raceView,
  raceLaps,
  fieldOrder,
  distanceResults,
  formatTime,
  formatSpeed,
  competitorInfo,
  controlFrame,
  streamQuery,
  lapProgress,
  newProgress,
} from '../../examples/scoreboard/scoreboard-state.js';
import { readRecording, compactLikeSnapshot, boardView } from './recording.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = process.env.OVALSTREAM_DATA_DIR || process.env.OVALSTREAM_DEFAULT_DATA_DIR || path.resolve(repo, '../shared/data/vantage');
const realRecording = path.join(dataDir, '20200112-ec-recover-10-3.jsonl');
const examplesDir = process.env.OVALSTREAM_EXAMPLES_DIR || path.join(repo, 'examples');
const examples = ['competition.jsonl', '500m-pair.jsonl'].map((name) => path.join(examplesDir, name));

function fold(events) {
  const state = initialState();
  for (const event of events) applyEvent(state, event);
  return state;
}

// ---- synthetic sequences --------------------------------------------------------------------------------

const C = 'comp-1';
const D = 'dist-1';
const heat = (number) => ({ round: 1, number });
const competitor = (name, nat, startNumber) => ({ typeName: 'PersonCompetitor', firstName: name.split(' ')[0], lastName: name.split(' ')[1], nationalityCode: nat, startNumber });
const entry = (id, lane, who) => ({
  race: { id, lane, color: lane, competitor: who },
  estimatedLaps: [
    { index: 0, passedLength: 100, rounds: 0.25, roundsToGo: 1 },
    { index: 1, passedLength: 500, rounds: 1.25, roundsToGo: 0 },
  ],
  laps: [],
  passings: [],
  start: null,
});
const activated = () => ({ typeName: 'CompetitionActivatedEvent', competitionId: C, competition: { id: C, name: 'Test Cup', venue: { name: 'Thialf' } } });
const distance = (id = D, name = 'Ladies 500m') => ({
  typeName: 'DistanceActivatedEvent', competitionId: C, distanceId: id,
  distance: { id, name, discipline: 'SpeedSkating.LongTrack.PairsDistance.Individual', value: 500, valueQuantity: 0 },
});
const heatActivated = (number, races) => ({ typeName: 'HeatActivatedEvent', competitionId: C, distanceId: D, heat: heat(number), races });
const heatEvent = (typeName, number, extra = {}) => ({ typeName, competitionId: C, distanceId: D, heat: heat(number), ...extra });
const lapAdded = (number, raceId, time, extra = {}) =>
  heatEvent('RaceLapAddedEvent', number, { raceId, lap: { time, fixedIndex: null, flags: 33, ...extra } });

test('formats times truncated to hundredths and speeds in km/h', () => {
  assert.equal(formatTime(181133000), '18.11');
  assert.equal(formatTime(2224820000), '3:42.48');
  assert.equal(formatTime(600000000), '1:00.00');
  assert.equal(formatTime(null), '');
  assert.equal(formatSpeed(14.074489509776429), '50.7');
});

test('a pair: competitors, lanes, laps, speed and the finish time', () => {
  const state = fold([
    activated(),
    distance(),
    heatActivated(1, [entry('a', 0, competitor('Anna Inner', 'NED', 7)), entry('b', 1, competitor('Olga Outer', 'NOR', 8))]),
    heatEvent('HeatStartedEvent', 1),
    lapAdded(1, 'a', 103456000),
    lapAdded(1, 'b', 101000000),
    heatEvent('LastRaceSpeedChangedEvent', 1, { raceId: 'a', passing: { passed: 250, speed: 14, time: 200000000, where: 3 } }),
    lapAdded(1, 'a', 375678000),
  ]);
  assert.equal(state.competition.name, 'Test Cup');
  assert.equal(state.distance.name, 'Ladies 500m');
  const [a, b] = state.heats[0].races.map(raceView);
  assert.deepEqual([a.competitor.name, a.competitor.nationality, a.lane], ['Anna Inner', 'NED', 'inner']);
  assert.deepEqual([b.competitor.name, b.competitor.nationality, b.lane], ['Olga Outer', 'NOR', 'outer']);
  assert.deepEqual(a.laps.map((l) => formatTime(l.lapTime)), ['10.34', '27.22']);
  assert.equal(formatTime(a.finishTime), '37.56');
  assert.equal(a.finished, true);
  assert.equal(b.finished, false);
  assert.equal(formatSpeed(a.speed), '50.4');
});

test('a photo-finish lap replaces its index; laps after the finish do not count', () => {
  const state = fold([
    activated(),
    distance(),
    heatActivated(1, [entry('a', 0, competitor('Anna Inner', 'NED', 7))]),
    lapAdded(1, 'a', 103456000),
    lapAdded(1, 'a', 375678000),
    lapAdded(1, 'a', 480000000, { flags: 49 }),
    lapAdded(1, 'a', 375600000, { fixedIndex: 1, presentationSource: { how: 'Photofinish' } }),
  ]);
  const view = raceView(state.heats[0].races[0]);
  assert.equal(view.lapsDone, 2);
  assert.equal(formatTime(view.finishTime), '37.56');
  assert.equal(view.finishTime, 375600000);
  // Without a lap schedule only the flag tells a cool-down lap from a race lap.
  const unscheduled = fold([
    activated(),
    distance(),
    heatActivated(1, [{ ...entry('a', 0, competitor('Anna Inner', 'NED', 7)), estimatedLaps: [] }]),
    lapAdded(1, 'a', 103456000),
    lapAdded(1, 'a', 375678000),
    lapAdded(1, 'a', 480000000, { flags: 49 }),
  ]);
  assert.deepEqual(raceView(unscheduled.heats[0].races[0]).laps.map((l) => l.time), [103456000, 375678000]);
});

test('a cleared heat keeps its competitors and loses its progress', () => {
  const state = fold([
    activated(),
    distance(),
    heatActivated(1, [entry('a', 0, competitor('Anna Inner', 'NED', 7))]),
    lapAdded(1, 'a', 103456000),
    heatEvent('HeatClearedEvent', 1),
  ]);
  const view = raceView(state.heats[0].races[0]);
  assert.equal(view.competitor.name, 'Anna Inner');
  assert.equal(view.lapsDone, 0);
  assert.equal(state.heats[0].cleared, true);
});

test('two heats at once; a deactivated heat stays until the next activation; other distances change nothing', () => {
  const state = fold([
    activated(),
    distance(),
    heatActivated(1, [entry('a', 0, competitor('Anna A', 'NED', 1))]),
    heatActivated(2, [entry('b', 0, competitor('Bea B', 'GER', 2))]),
  ]);
  assert.deepEqual(state.heats.map((h) => h.key), ['1.1', '1.2']);
  applyEvent(state, heatEvent('HeatDeactivatedEvent', 1));
  assert.deepEqual(state.heats.map((h) => [h.key, h.active]), [['1.1', false], ['1.2', true]]);
  assert.equal(applyEvent(state, { ...lapAdded(2, 'b', 100000000), distanceId: 'other' }), false);
  applyEvent(state, heatActivated(3, [entry('c', 1, competitor('Cleo C', 'CAN', 3))]));
  assert.deepEqual(state.heats.map((h) => h.key), ['1.2', '1.3']);
});

test('committed heats rank the distance by time; a re-commit replaces the result', () => {
  const committed = (number, id, name, time) => heatEvent('HeatCommittedEvent', number, {
    races: [{ race: { id, lane: 0, competitor: competitor(name, 'NED', number), time: { time }, result: { status: 4, timeInvalidReason: null } } }],
  });
  const state = fold([activated(), distance(), committed(1, 'a', 'Anna A', 380000000), committed(2, 'b', 'Bea B', 375000000)]);
  assert.deepEqual(distanceResults(state).map((r) => [r.rank, r.competitor.name]), [[1, 'Bea B'], [2, 'Anna A']]);
  applyEvent(state, committed(1, 'a', 'Anna A', 370000000));
  assert.deepEqual(distanceResults(state).map((r) => [r.rank, r.competitor.name, formatTime(r.time)]), [[1, 'Anna A', '37.00'], [2, 'Bea B', '37.50']]);
  applyEvent(state, distance());
  assert.equal(distanceResults(state).length, 0, 'a fresh distance starts without results');
});

test('competitor names: full name, structured name, team members', () => {
  assert.equal(competitorInfo({ fullName: 'Jorrit de Wit', name: { firstName: 'X', surname: 'Y' } }).name, 'Jorrit de Wit');
  assert.equal(competitorInfo({ name: { firstName: 'Jorrit', surnamePrefix: 'de', surname: 'Wit' } }).name, 'Jorrit de Wit');
  const team = competitorInfo({ typeName: 'TeamCompetitor', name: 'Norway', nationalityCode: 'NOR', members: [{ fullName: 'Ida Moe' }, { fullName: 'Silje Lunde' }] });
  assert.deepEqual([team.name, team.nationality, team.team, team.members], ['Norway', 'NOR', true, ['Ida Moe', 'Silje Lunde']]);
  assert.equal(competitorInfo({ clubCountryCode: 'NED', fullName: 'A B' }).nationality, 'NED');
});

test('a mass start field is ordered by laps, then by who crossed first', () => {
  const views = [
    { id: 'x', lapsDone: 3, lastLap: { time: 900 }, competitor: { startNumber: 1 } },
    { id: 'y', lapsDone: 4, lastLap: { time: 1200 }, competitor: { startNumber: 2 } },
    { id: 'z', lapsDone: 4, lastLap: { time: 1100 }, competitor: { startNumber: 3 } },
  ];
  assert.deepEqual(fieldOrder(views).map((v) => v.id), ['z', 'y', 'x']);
});

test('a new competition activation starts afresh', () => {
  const state = fold([activated(), distance(), heatActivated(1, [entry('a', 0, competitor('Anna A', 'NED', 1))]), activated()]);
  assert.equal(state.distance, null);
  assert.equal(state.heats.length, 0);
});

// ---- positions, resume and what is new ------------------------------------------------------------------

test('control frames: live, position, reset; anything else with the key is still not an event', () => {
  assert.deepEqual(controlFrame({ ovalstream: 'live', position: 42, epoch: '1700000000123456789' }), { kind: 'live', position: 42, epoch: '1700000000123456789' });
  assert.deepEqual(controlFrame({ ovalstream: 'position', position: 0 }), { kind: 'position', position: 0, epoch: null });
  assert.deepEqual(controlFrame({ ovalstream: 'reset' }), { kind: 'reset', position: null, epoch: null });
  assert.equal(controlFrame({ ovalstream: 'later', typeName: 'RaceLapAddedEvent' }).kind, 'unknown');
  assert.equal(controlFrame({ ovalstream: null }).kind, 'unknown');
  // Malformed positions and epochs are dropped, never trusted into a URL.
  for (const position of [-1, 1.5, '12', 2 ** 53, null, {}]) assert.equal(controlFrame({ ovalstream: 'live', position, epoch: 'e' }).position, null, String(position));
  for (const epoch of ['', 'a&since=1', 'x'.repeat(65), 12, 'ä']) assert.equal(controlFrame({ ovalstream: 'live', position: 1, epoch }).epoch, null, String(epoch));
  for (const frame of [null, 'live', 42, [], ['ovalstream'], { typeName: 'HeatStartedEvent' }, Object.create({ ovalstream: 'live' })]) assert.equal(controlFrame(frame), null, JSON.stringify(frame));
});

test('the query of a competition socket: a resume only with a valid position and epoch', () => {
  assert.equal(streamQuery(17, 'abc-_9'), '?since=17&epoch=abc-_9');
  assert.equal(streamQuery(0, 'e'), '?since=0&epoch=e');
  assert.equal(streamQuery(null, null), '?positions=1');
  assert.equal(streamQuery(17, null), '?positions=1');
  assert.equal(streamQuery(null, 'e'), '?positions=1');
  assert.equal(streamQuery(2 ** 53, 'e'), '?positions=1');
  assert.equal(streamQuery(17, 'e&x=1'), '?positions=1');
});

test('new laps and finishes between two states; restored, cleared and corrected laps are not new', () => {
  const state = fold([
    activated(),
    distance(),
    heatActivated(1, [entry('a', 0, competitor('Anna Inner', 'NED', 7)), entry('b', 1, competitor('Olga Outer', 'NOR', 8))]),
  ]);
  const steps = [];
  let before = lapProgress(state);
  assert.deepEqual([...before], [['a', { lapsDone: 0, finished: false }], ['b', { lapsDone: 0, finished: false }]]);
  const step = (...events) => {
    for (const event of events) applyEvent(state, event);
    const after = lapProgress(state);
    steps.push(newProgress(before, after));
    before = after;
  };
  step(lapAdded(1, 'a', 103456000));
  step(lapAdded(1, 'b', 101000000), lapAdded(1, 'a', 375678000)); // one batch: a's last lap, b's first
  step(lapAdded(1, 'a', 375600000, { fixedIndex: 1 })); // a photo-finish correction
  step(lapAdded(1, 'a', 480000000, { flags: 49 })); // a cool-down lap
  step(heatEvent('LastRaceSpeedChangedEvent', 1, { raceId: 'b', passing: { passed: 300, speed: 14, time: 250000000, where: 3 } }));
  step(heatEvent('HeatClearedEvent', 1));
  step(lapAdded(1, 'b', 102000000)); // the restarted race
  assert.deepEqual(steps, [
    [{ raceId: 'a', lapIndex: 0, kind: 'lap' }],
    [{ raceId: 'a', lapIndex: 1, kind: 'lap' }, { raceId: 'a', lapIndex: 1, kind: 'finish' }, { raceId: 'b', lapIndex: 0, kind: 'lap' }],
    [],
    [],
    [],
    [],
    [{ raceId: 'b', lapIndex: 0, kind: 'lap' }],
  ]);
  // A heat activated with laps already done, or a competition activated again, is restored, not skated.
  const next = { ...entry('c', 0, competitor('Carla Late', 'CAN', 9)), laps: [{ time: 101000000, flags: 33 }] };
  step(heatEvent('HeatDeactivatedEvent', 1), heatActivated(2, [next]));
  step(activated(), distance(), heatActivated(2, [next]));
  assert.deepEqual(steps.slice(-2), [[], []]);
  assert.deepEqual(newProgress(new Map(), lapProgress(state)), []);
});

// ---- recordings -----------------------------------------------------------------------------------------

// Every presented lap (Vantage's own lap time, LastPresentedRaceLapChangedEvent, the latest per race and
// index) equals the lap time the reducer derives from the lap passings alone.
function checkPresentedLaps(events) {
  const state = initialState();
  const presented = new Map(); // raceId -> Map(index -> lapTime)
  let checked = 0;
  for (const event of events) {
    applyEvent(state, event);
    if (event.typeName === 'LastPresentedRaceLapChangedEvent' && event.lap && event.lap.lapTime !== null) {
      if (!presented.has(event.raceId)) presented.set(event.raceId, new Map());
      presented.get(event.raceId).set(event.lap.index, event.lap.lapTime);
    }
    if (event.typeName === 'HeatDeactivatedEvent' || event === events[events.length - 1]) {
      for (const h of state.heats) {
        for (const race of h.races) {
          const expected = presented.get(race.id);
          if (!expected) continue;
          const laps = raceLaps({ ...race, presented: null });
          for (const [index, lapTime] of expected) {
            if (index >= laps.length) continue; // presented before a clear
            assert.equal(formatTime(laps[index].lapTime), formatTime(lapTime), `race ${race.id} lap ${index}`);
            checked += 1;
          }
          presented.delete(race.id);
        }
      }
    }
  }
  return checked;
}

// What the page animates once live does not depend on how it got there: folding the events one by one from
// the start, or a snapshot of a prefix and then the rest, gives the same new laps and finishes after the cut.
function checkProgressAfterSnapshot(events, cuts) {
  const newAfter = (state, rest) => {
    const fresh = [];
    let before = lapProgress(state);
    for (const event of rest) {
      applyEvent(state, event);
      const after = lapProgress(state);
      fresh.push(...newProgress(before, after).map((p) => `${p.raceId}/${p.lapIndex}/${p.kind}`));
      before = after;
    }
    return fresh;
  };
  let total = 0;
  for (let c = 0; c < cuts; c += 1) {
    const cut = Math.floor(((c + 1) * events.length) / (cuts + 1));
    const expected = newAfter(fold(events.slice(0, cut)), events.slice(cut));
    assert.deepEqual(newAfter(fold(compactLikeSnapshot(events.slice(0, cut))), events.slice(cut)), expected, `cut at event ${cut}`);
    total += expected.length;
  }
  return total;
}

// The snapshot property, as the page relies on it: folding the retained events of any prefix (the
// snapshot a late joiner gets), then the rest, gives the same board as folding everything.
function checkSnapshotProperty(events, cuts) {
  const full = boardView(fold(events));
  for (let c = 0; c < cuts; c += 1) {
    const cut = Math.floor(((c + 1) * events.length) / (cuts + 1));
    const state = fold(compactLikeSnapshot(events.slice(0, cut)));
    for (const event of events.slice(cut)) applyEvent(state, event);
    assert.deepEqual(boardView(state), full, `cut at event ${cut}`);
    const prefixOnly = boardView(fold(compactLikeSnapshot(events.slice(0, cut))));
    assert.deepEqual(prefixOnly, boardView(fold(events.slice(0, cut))), `snapshot of the first ${cut} events`);
  }
}

test('the real recording: Men Team Pursuit, Russia and Italy, lap times and results', { skip: !fs.existsSync(realRecording) && `no real recording at ${realRecording} (set OVALSTREAM_DATA_DIR)` }, () => {
  const events = readRecording(realRecording);
  const state = fold(events);
  assert.equal(state.competition.name, 'ISU European Single Distances Speed Skating Championships 2020');
  assert.equal(state.distance.name, 'Men Team Pursuit');
  assert.equal(state.distance.kind, 'teamPursuit');
  const views = state.heats[0].races.map(raceView);
  assert.deepEqual(views.map((v) => [v.competitor.name, v.competitor.nationality, v.lane, v.lapsDone]), [
    ['Russia', 'RUS', 'outer', 16],
    ['Italy', 'ITA', 'inner', 16],
  ]);
  assert.deepEqual(views.map((v) => formatTime(v.finishTime)), ['3:42.48', '3:46.77']);
  assert.deepEqual(distanceResults(state).map((r) => [r.rank, r.competitor.name, formatTime(r.time)]), [
    [1, 'Russia', '3:42.48'],
    [2, 'Italy', '3:46.77'],
  ]);
  assert.equal(checkPresentedLaps(events), 32);
  checkSnapshotProperty(events, 25);
  assert.ok(checkProgressAfterSnapshot(events, 10) > 0, 'laps after the cuts');
});

for (const file of examples) {
  test(`example ${path.basename(file)}: every presented lap time, the snapshot property, the results`, { skip: !fs.existsSync(file) && `${file} not generated yet (the simulator writes it)` }, () => {
    const events = readRecording(file);
    const distances = new Set(events.filter((e) => e.typeName === 'DistanceActivatedEvent').map((e) => e.distance.name));
    assert.ok(distances.size >= 1, 'the example activates a distance');
    const checked = checkPresentedLaps(events);
    assert.ok(checked > 0, 'the example presents laps');
    checkSnapshotProperty(events, 20);
    assert.ok(checkProgressAfterSnapshot(events, 10) > 0, 'laps after the cuts');
    // Every heat's competitors, as activated, are shown while the heat is.
    const state = initialState();
    for (const event of events) {
      applyEvent(state, event);
      if (event.typeName === 'HeatActivatedEvent' && state.distance && state.distance.id === event.distanceId) {
        const shown = state.heats.find((h) => h.round === event.heat.round && h.number === event.heat.number);
        assert.deepEqual(shown.races.map((r) => r.id), event.races.map((r) => r.race.id));
        for (const race of shown.races) assert.ok(raceView(race).competitor.name, `race ${race.id} has a name`);
      }
      if (event.typeName === 'HeatCommittedEvent' && state.distance && state.distance.id === event.distanceId) {
        const rows = distanceResults(state).filter((r) => r.round === event.heat.round && r.heatNumber === event.heat.number);
        assert.equal(rows.length, event.races.length);
      }
    }
  });
}
