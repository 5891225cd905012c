/* Stemmatic HTML report.  Inlined into the page at render time.
 *
 * Builds the page from the JSON in #stemmatic-data.  Document text only ever enters the
 * page through textContent, text nodes or attribute values, never as markup.  Texts
 * arrive already cut into segments (see stemmatic/report/html.py), so this script does no
 * offset arithmetic: Python counts code points, JavaScript counts UTF-16 units.
 */
(function () {
  'use strict';

  const DATA = JSON.parse(document.getElementById('stemmatic-data').textContent);
  const P = DATA.passages;
  const D = DATA.differences;
  const F = DATA.findings;
  const C = DATA.citations;
  const SOURCES = DATA.sources;
  const NONE = [];

  const KINDS = [
    { id: 'quotation', label: 'Quotation', verb: 'Quoted', cue: 'blue, double underline' },
    { id: 'copy', label: 'Copy', verb: 'Copied', cue: 'orange, solid underline' },
    { id: 'paraphrase', label: 'Paraphrase', verb: 'Paraphrased', cue: 'purple, dashed underline' },
  ];
  const ATTRS = [
    { id: 'cited', label: 'Cited', glyph: '\u2713', cue: 'check mark, solid ring' },
    { id: 'uncited', label: 'Uncited', glyph: '!', cue: 'exclamation mark, dashed ring' },
    { id: 'miscited', label: 'Miscited', glyph: '\u2717', cue: 'cross, double ring' },
    { id: 'none', label: 'Not assessed', glyph: '\u2022', cue: 'dot' },
  ];
  const KIND = {};
  KINDS.forEach((k) => { KIND[k.id] = k; });
  const ATTR = {};
  ATTRS.forEach((a) => { ATTR[a.id] = a; });
  const MINOR = { typography: true, case: true, spelling: true };
  const FLAG = '\u2691';
  const CARET = '\u2038';

  const state = {
    kinds: {},
    attrs: {},
    sources: SOURCES.map(() => true),
    shown: -1,
    passage: -1,
    finding: -1,
  };
  KINDS.forEach((k) => { state.kinds[k.id] = true; });
  ATTRS.forEach((a) => { state.attrs[a.id] = true; });

  const byId = (id) => document.getElementById(id);
  const queryBody = byId('query-body');
  const sourceBody = byId('source-body');
  const sourcePane = byId('source-pane');
  const sourceSelect = byId('source-select');
  const sheetToggle = byId('sheet-toggle');
  const detail = byId('detail');
  const findingsList = byId('findings');
  const narrowQuery = window.matchMedia('(max-width: 760px)');

  // ------------------------------------------------------------------ helpers

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = String(text);
    return node;
  }

  function button(cls, text, label) {
    const node = el('button', cls, text);
    node.type = 'button';
    if (label) node.setAttribute('aria-label', label);
    return node;
  }

  const fmt = (n) => Number(n).toLocaleString('en-US');
  const range = (a, b) => fmt(a) + '\u2013' + fmt(b);

  function pct(share) {
    if (!(share > 0)) return '0%';
    if (share < 0.01) return '<1%';
    if (share > 0.99 && share < 1) return '>99%';
    return Math.round(share * 100) + '%';
  }

  function clip(text, limit) {
    const flat = String(text).replace(/\s+/g, ' ').trim();
    if (flat.length <= limit) return flat;
    const keep = limit - 1;
    return flat.slice(0, Math.ceil(keep / 2)) + '\u2026' + flat.slice(flat.length - Math.floor(keep / 2));
  }

  const quote = (text) => '\u201c' + clip(text, 80) + '\u201d';
  const attrOf = (p) => (p.attribution && ATTR[p.attribution] ? p.attribution : 'none');
  const kindLabel = (kind) => (KIND[kind] ? KIND[kind].label : String(kind));
  const sourceName = (index, id) => (index != null && SOURCES[index] ? SOURCES[index].name : String(id));

  function meter(cls, share) {
    const outer = el('span', 'meter' + (cls ? ' ' + cls : ''));
    outer.setAttribute('aria-hidden', 'true');
    const fill = el('span');
    // CSSOM, not a style attribute: allowed by the page's Content-Security-Policy.
    fill.style.width = Math.max(0, Math.min(1, Number(share) || 0)) * 100 + '%';
    outer.appendChild(fill);
    return outer;
  }

  function pill(attr) {
    const a = ATTR[attr] || ATTR.none;
    const node = el('span', 'pm a-' + a.id, a.glyph);
    node.setAttribute('aria-hidden', 'true');
    return node;
  }

  function swatch(cls, text) {
    const node = el('span', 'swatch ' + cls, text);
    return node;
  }

  function passageVisible(i) {
    const p = P[i];
    return state.kinds[p.kind] !== false && state.attrs[attrOf(p)] !== false &&
      (p.source == null || state.sources[p.source] !== false);
  }

  function findingVisible(i) {
    const f = F[i];
    return f.source == null || state.sources[f.source] !== false;
  }

  function firstVisible(list) {
    for (const i of list) if (passageVisible(i)) return i;
    return -1;
  }

  function passageLabel(i) {
    const p = P[i];
    return kindLabel(p.kind) + ' from ' + sourceName(p.source, p.source_id) + ', ' +
      ATTR[attrOf(p)].label.toLowerCase();
  }

  function findingLabel(i) {
    const f = F[i];
    return 'Finding ' + (i + 1) + ' of ' + F.length + ': ' + f.label;
  }

  // ------------------------------------------------------------------ differences

  // One category per difference, whichever side is drawn: a side whose words are empty
  // shows a caret instead of a styled segment.
  function diffClass(d) {
    if (MINOR[d.type]) return 'd-variant';
    if (d.type === 'editorial') return 'd-editorial';
    if (!d.query) return 'd-dropped';
    if (!d.source) return 'd-added';
    return 'd-changed';
  }

  function diffTitle(d, side) {
    const other = side === 'query' ? d.source : d.query;
    const otherName = side === 'query' ? 'the source has ' : 'the query has ';
    if (MINOR[d.type]) return d.type[0].toUpperCase() + d.type.slice(1) + ' variant; ' + otherName + quote(other);
    if (d.type === 'editorial') return 'Editorial mark' + (other ? '; ' + otherName + quote(other) : '');
    if (!other) return side === 'query' ? 'Added in the query; not in the source' : 'Dropped in the query';
    return 'Changed; ' + otherName + quote(other);
  }

  function gapTitle(d, side) {
    return side === 'query'
      ? 'Dropped from the source here: ' + quote(d.source)
      : 'The query adds here: ' + quote(d.query);
  }

  // ------------------------------------------------------------------ texts

  const current = new Set();

  // A segment is drawn after one passage: the chosen one where it covers the segment, else
  // the first visible (innermost) one.  Word differences are drawn for that passage only,
  // and in a source only for the chosen passage: passages often overlap in a source, and
  // their differences would contradict each other.
  function styleSegment(span, side) {
    let cls = '';
    const chosen = state.passage;
    const focus = chosen >= 0 && span._p.indexOf(chosen) >= 0 && passageVisible(chosen)
      ? chosen
      : firstVisible(span._p);
    let title = '';
    if (focus >= 0) {
      cls = 'k-' + P[focus].kind;
      if (side === 'query' || focus === chosen) {
        for (const i of span._d) {
          if (D[i].passage === focus) {
            cls += ' ' + diffClass(D[i]);
            title = diffTitle(D[i], side);
            break;
          }
        }
      }
    }
    if (span._c.length) cls += ' cit cit-' + C[span._c[0]].status;
    if (current.has(span)) cls += ' cur';
    span.className = cls;
    if (span.title !== title) span.title = title;
  }

  function gapVisible(node, side) {
    const passage = D[node._gap].passage;
    return passageVisible(passage) && (side === 'query' || passage === state.passage);
  }

  function passageMark(i) {
    const a = attrOf(P[i]);
    const node = button('pm a-' + a, ATTR[a].glyph, passageLabel(i) + ' (show its source)');
    node.dataset.p = String(i);
    node.title = passageLabel(i);
    return node;
  }

  function flagButton(i) {
    const f = F[i];
    const node = button('flag', FLAG + (i + 1), findingLabel(i) + '. ' + f.message);
    node.dataset.f = String(i);
    node.title = f.label + ': ' + f.message;
    return node;
  }

  // A segment's text: a string, or the strings between soft line breaks.
  function appendText(parent, text) {
    if (typeof text === 'string') {
      parent.appendChild(document.createTextNode(text));
      return;
    }
    text.forEach((part, i) => {
      if (i) parent.appendChild(el('span', 'sb', '\n'));
      if (part) parent.appendChild(document.createTextNode(part));
    });
  }

  function buildText(doc, side) {
    const view = {
      side: side,
      root: el('div', 'text'),
      segs: [],
      byP: new Map(),
      byF: new Map(),
      marks: new Map(),
      flags: new Map(),
      gaps: [],
    };
    const add = (map, key, node) => {
      const list = map.get(key);
      if (list) list.push(node);
      else map.set(key, [node]);
    };
    if (!doc.complete) {
      view.root.appendChild(el('p', 'partial-note',
        'The report does not hold this full text: only the spans it quotes are shown.'));
    }
    let block = el('div', 'block');
    view.root.appendChild(block);
    for (const seg of doc.segments) {
      if (Array.isArray(seg)) {
        const p = seg[1] || NONE;
        const d = seg[2] || NONE;
        const f = seg[3] || NONE;
        const c = seg[4] || NONE;
        if (!p.length && !d.length && !f.length && !c.length) {
          appendText(block, seg[0]);
          continue;
        }
        const span = el('span');
        appendText(span, seg[0]);
        span._p = p;
        span._d = d;
        span._c = c;
        for (const i of p) add(view.byP, i, span);
        for (const i of f) add(view.byF, i, span);
        view.segs.push(span);
        block.appendChild(span);
      } else if (seg.br) {
        block = el('div', 'block');
        view.root.appendChild(block);
      } else if (seg.skip != null) {
        block.appendChild(el('span', 'elided', '[\u2026 ' + fmt(seg.skip) + ' characters not in the report \u2026]'));
      } else if (seg.flag != null) {
        const node = flagButton(seg.flag);
        view.flags.set(seg.flag, node);
        block.appendChild(node);
      } else if (seg.pm != null) {
        const node = passageMark(seg.pm);
        view.marks.set(seg.pm, node);
        block.appendChild(node);
      } else if (seg.gap != null) {
        const node = el('span', 'gap', CARET);
        const title = gapTitle(D[seg.gap], side);
        node._gap = seg.gap;
        node.title = title;
        node.setAttribute('role', 'img');
        node.setAttribute('aria-label', title);
        view.gaps.push(node);
        block.appendChild(node);
      }
    }
    restyle(view);
    return view;
  }

  function restyle(view) {
    for (const span of view.segs) styleSegment(span, view.side);
    view.marks.forEach((node, i) => node.classList.toggle('hide', !passageVisible(i)));
    view.flags.forEach((node, i) => node.classList.toggle('hide', !findingVisible(i)));
    for (const node of view.gaps) node.classList.toggle('hide', !gapVisible(node, view.side));
  }

  // The chosen passage changes how its segments (and the previous one's) are drawn.
  function choosePassage(i) {
    const old = state.passage;
    state.passage = i;
    for (const view of [Q].concat(views)) {
      if (!view) continue;
      for (const j of [old, i]) {
        if (j < 0) continue;
        for (const span of view.byP.get(j) || NONE) styleSegment(span, view.side);
      }
      if (view.side === 'source') {
        for (const node of view.gaps) node.classList.toggle('hide', !gapVisible(node, 'source'));
      }
    }
  }

  const Q = buildText(DATA.query, 'query');
  queryBody.appendChild(Q.root);
  const views = SOURCES.map(() => null);

  function showSource(i) {
    if (i == null || i < 0 || i >= SOURCES.length) return null;
    let view = views[i];
    if (!view) {
      view = buildText(SOURCES[i], 'source');
      views[i] = view;
    }
    if (state.shown !== i) {
      state.shown = i;
      sourceBody.replaceChildren(view.root);
      sourceBody.scrollTop = 0;
      sourceSelect.value = String(i);
      const s = SOURCES[i];
      const facts = [s.path, s.author, s.date, fmt(s.length) + ' characters'];
      if (s.text_source) facts.push(s.text_source);
      byId('source-meta').textContent = facts.filter(Boolean).join(' \u00b7 ');
    }
    return view;
  }

  // ------------------------------------------------------------------ selection

  function clearCurrent() {
    for (const node of current) node.classList.remove('cur');
    current.clear();
  }

  function markCurrent(nodes) {
    for (const node of nodes || NONE) {
      if (!node) continue;
      node.classList.add('cur');
      current.add(node);
    }
  }

  function scrolls(pane) {
    const overflow = window.getComputedStyle(pane).overflowY;
    return overflow === 'auto' || overflow === 'scroll';
  }

  function sheetHeight() {
    return narrowQuery.matches ? sourcePane.getBoundingClientRect().height : 0;
  }

  // Blocks off screen are laid out lazily (CSS content-visibility) and hold a guessed
  // height until then; lay out the ones around the nodes for real so they can be measured.
  function layOut(nodes) {
    for (const node of [nodes[0], nodes[nodes.length - 1]]) {
      const block = node.closest('.block');
      if (!block) continue;
      for (const b of [block.previousElementSibling, block, block.nextElementSibling]) {
        if (b) b.classList.add('near');
      }
    }
  }

  function extent(list) {
    let top = Infinity;
    let bottom = -Infinity;
    for (const node of list) {
      const r = node.getBoundingClientRect();
      top = Math.min(top, r.top);
      bottom = Math.max(bottom, r.bottom);
    }
    return [top, bottom];
  }

  // The part of the viewport where a pane's content shows: [top, bottom] in client pixels.
  function viewport(pane) {
    if (scrolls(pane)) {
      const box = pane.getBoundingClientRect();
      return [box.top + pane.clientTop, box.top + pane.clientTop + pane.clientHeight];
    }
    return [0, window.innerHeight - sheetHeight()];
  }

  // Scroll the pane (or, on a phone, the page) so the nodes sit in its upper third; with
  // ``onlyIfHidden``, leave it alone when their start is already in view.
  function reveal(nodes, pane, onlyIfHidden) {
    const list = (nodes || NONE).filter((n) => n && n.isConnected);
    if (!list.length) return;
    layOut(list);
    const visible = list.filter((n) => n.getClientRects().length);
    if (!visible.length) return;
    const [top, bottom] = extent(visible);
    const [viewTop, viewBottom] = viewport(pane);
    if (onlyIfHidden && top >= viewTop && top + 24 <= viewBottom) return;
    const height = bottom - top;
    const room = viewBottom - viewTop;
    const margin = height < room - 48 ? (room - height) / 3 : 24;
    if (scrolls(pane)) pane.scrollTop += top - viewTop - margin;
    else window.scrollBy(0, top - viewTop - margin);
  }

  function openSheet() {
    if (!narrowQuery.matches) return;
    document.body.classList.add('sheet-open');
    sheetToggle.setAttribute('aria-expanded', 'true');
    sheetToggle.textContent = 'Hide';
  }

  function closeSheet() {
    document.body.classList.remove('sheet-open');
    sheetToggle.setAttribute('aria-expanded', 'false');
    sheetToggle.textContent = 'Show';
  }

  function setCurrentFinding(i) {
    const old = findingsList.querySelector('[aria-current="true"]');
    if (old) old.removeAttribute('aria-current');
    if (i < 0) return;
    const item = findingButtons[i];
    item.setAttribute('aria-current', 'true');
    // Keep the list's own scroll in step, without moving the page.
    const list = findingsList;
    if (list.scrollHeight > list.clientHeight) {
      const top = item.getBoundingClientRect().top - list.getBoundingClientRect().top + list.scrollTop;
      if (top < list.scrollTop || top + item.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTop = top - list.clientHeight / 3;
      }
    } else {
      const side = byId('side');
      if (scrolls(side)) {
        const r = item.getBoundingClientRect();
        const box = side.getBoundingClientRect();
        if (r.top < box.top || r.bottom > box.bottom) side.scrollTop += r.top - box.top - side.clientHeight / 3;
      }
    }
  }

  function announce(text) {
    byId('announce').textContent = text;
  }

  function selectPassage(i, opts) {
    opts = opts || {};
    const p = P[i];
    clearCurrent();
    state.finding = -1;
    setCurrentFinding(-1);
    const queryNodes = Q.byP.get(i) || NONE;
    const mark = Q.marks.get(i);
    markCurrent(queryNodes);
    markCurrent([mark]);
    openSheet();
    const view = showSource(p.source);
    choosePassage(i);
    if (view) {
      const nodes = view.byP.get(i) || NONE;
      markCurrent(nodes);
      reveal(nodes, sourceBody);
    }
    // On a phone the sheet now covers the lower half: keep the passage in view above it.
    reveal(queryNodes.length ? queryNodes : [mark], queryBody, !opts.scrollQuery);
    if (opts.focus && mark) mark.focus({ preventScroll: true });
    showPassageDetail(i, opts.at);
    announce(passageLabel(i));
  }

  function selectFinding(i, opts) {
    opts = opts || {};
    const f = F[i];
    clearCurrent();
    state.finding = i;
    setCurrentFinding(i);
    const queryNodes = Q.byF.get(i) || NONE;
    const flag = Q.flags.get(i);
    markCurrent(queryNodes);
    markCurrent([flag]);
    let sourceIndex = f.source;
    if (sourceIndex == null && f.passage != null) sourceIndex = P[f.passage].source;
    if (sourceIndex != null) {
      openSheet();
      const view = showSource(sourceIndex);
      choosePassage(f.passage != null ? f.passage : -1);
      let nodes = view.byF.get(i);
      if (!nodes && f.passage != null && P[f.passage].source === sourceIndex) nodes = view.byP.get(f.passage);
      if (nodes) {
        markCurrent(nodes);
        reveal(nodes, sourceBody);
      } else {
        sourceBody.scrollTop = 0;
      }
    } else {
      choosePassage(f.passage != null ? f.passage : -1);
    }
    reveal(queryNodes.length ? queryNodes : [flag], queryBody);
    if (opts.focus !== false && flag) flag.focus({ preventScroll: true });
    showFindingDetail(i);
    announce(findingLabel(i) + '. ' + f.message);
  }

  function step(direction) {
    const count = F.length;
    if (!count) {
      announce('No findings.');
      return;
    }
    let i = state.finding;
    if (i < 0 && state.passage >= 0) {
      // After choosing a passage, go on from there rather than from the top.
      const at = P[state.passage].query_start;
      const next = F.findIndex((f) => f.start >= at);
      i = direction > 0 ? (next < 0 ? count : next) - 1 : (next < 0 ? count : next);
      if (i < 0 || i >= count) i = -1;
    }
    for (let tries = 0; tries < count; tries++) {
      i = i < 0 ? (direction > 0 ? 0 : count - 1) : (i + direction + count) % count;
      if (findingVisible(i)) {
        selectFinding(i, { focus: true });
        return;
      }
    }
    announce('No finding is shown: check the filters.');
  }

  function stepPassage(direction) {
    const count = P.length;
    let i = state.passage;
    for (let tries = 0; tries < count; tries++) {
      i = i < 0 ? (direction > 0 ? 0 : count - 1) : (i + direction + count) % count;
      if (passageVisible(i)) {
        selectPassage(i, { scrollQuery: true, focus: true });
        return;
      }
    }
    announce(count ? 'No passage is shown: check the filters.' : 'No passages.');
  }

  // ------------------------------------------------------------------ details

  function showPassageDetail(i, at) {
    const p = P[i];
    const a = attrOf(p);
    const head = el('p');
    head.append(swatch('k-' + p.kind, kindLabel(p.kind)), ' ', pill(a), ' ', ATTR[a].label);
    if (p.fidelity) head.append(' \u00b7 ' + p.fidelity);
    head.append(' \u00b7 score ' + Number(p.score).toFixed(2));
    if (p.method) head.append(' \u00b7 ' + p.method);
    const where = el('p', 'hint',
      'Query ' + range(p.query_start, p.query_end) + ' \u2194 source ' + range(p.source_start, p.source_end));
    const counts = {};
    for (const d of p.differences) {
      const cls = diffClass(D[d]);
      counts[cls] = (counts[cls] || 0) + 1;
    }
    const names = [['d-changed', 'changed'], ['d-added', 'added'], ['d-dropped', 'dropped'],
      ['d-variant', 'variant'], ['d-editorial', 'editorial']];
    const parts = names.filter((n) => counts[n[0]]).map((n) => counts[n[0]] + ' ' + n[1]);
    const diffs = el('p', 'hint', parts.length ? 'Differences: ' + parts.join(', ') : 'No word differences');
    const actions = el('div', 'actions');
    const back = button(null, 'Show in query');
    back.addEventListener('click', () => {
      reveal(Q.byP.get(i) || [Q.marks.get(i)], queryBody);
      const mark = Q.marks.get(i);
      if (mark) mark.focus({ preventScroll: true });
    });
    actions.appendChild(back);
    if (at && at._p) {
      for (const j of at._p) {
        if (j === i || !passageVisible(j)) continue;
        const other = button(null, 'Also here: ' + passageLabel(j));
        other.addEventListener('click', () => selectPassage(j, { at: at }));
        actions.appendChild(other);
      }
    }
    detail.replaceChildren(head, where, diffs, actions);
  }

  function showFindingDetail(i) {
    const f = F[i];
    const head = el('p');
    head.append(el('span', 'flag', FLAG + (i + 1)), ' ');
    head.append(el('strong', null, f.label));
    const message = el('p', null, f.message);
    let place = 'Query ' + range(f.start, f.end);
    if (f.source_id != null) {
      place += ' \u00b7 source ' + sourceName(f.source, f.source_id);
      if (f.source_start != null) place += ' ' + range(f.source_start, f.source_end);
      if (f.source == null) place += ' (not in the report)';
    } else {
      place += ' \u00b7 names no source';
    }
    const where = el('p', 'hint', place);
    const actions = el('div', 'actions');
    const back = button(null, 'Show in query');
    back.addEventListener('click', () => {
      const flag = Q.flags.get(i);
      reveal(Q.byF.get(i) || [flag], queryBody);
      if (flag) flag.focus({ preventScroll: true });
    });
    actions.appendChild(back);
    detail.replaceChildren(head, message, where, actions);
  }

  // ------------------------------------------------------------------ header and side panel

  function buildHeader() {
    const q = DATA.query;
    byId('doc-name').textContent = q.name;
    byId('verdict').textContent = DATA.summary.verdict;
    const facts = [q.path, q.author, q.date, fmt(q.length) + ' characters'];
    if (q.text_source) facts.push(q.text_source);
    facts.push(fmt(DATA.sources_searched) + ' source' + (DATA.sources_searched === 1 ? '' : 's') + ' searched');
    byId('query-meta').textContent = facts.filter(Boolean).join(' \u00b7 ');
    const s = DATA.summary;
    const items = [[el('span', null, 'Reused'), s.reused, null]];
    for (const k of KINDS) items.push([swatch('k-' + k.id, k.verb), s.by_kind[k.id], 'k-' + k.id]);
    for (const a of ATTRS) {
      if (a.id === 'none') continue;
      const label = el('span');
      label.append(pill(a.id), ' ' + a.label);
      items.push([label, s.by_attribution[a.id], 'a-' + a.id]);
    }
    const list = byId('summary');
    for (const [label, stats, cls] of items) {
      if (!stats) continue;
      const li = el('li');
      li.title = fmt(stats.characters) + ' characters in ' + fmt(stats.passages) + ' passage' +
        (stats.passages === 1 ? '' : 's');
      li.append(label, meter(cls, stats.share), el('span', 'num', pct(stats.share)));
      list.appendChild(li);
    }
  }

  const findingButtons = [];

  function buildFindings() {
    byId('findings-count').textContent = '(' + fmt(F.length) + ')';
    F.forEach((f, i) => {
      const li = el('li');
      const b = button('finding', null, null);
      b.dataset.f = String(i);
      b.append(el('span', 'ftype', FLAG + (i + 1) + ' ' + f.label), el('span', 'fmsg', f.message));
      let place = 'query ' + range(f.start, f.end);
      if (f.source_id != null) place += ' \u00b7 ' + sourceName(f.source, f.source_id);
      b.append(el('span', 'floc', place));
      if (f.excerpt) b.append(el('span', 'fexcerpt', quote(f.excerpt)));
      li.appendChild(b);
      findingsList.appendChild(li);
      findingButtons.push(b);
    });
  }

  function checkRow(id, checked, onChange, parts) {
    const label = el('label', 'check');
    const input = el('input');
    input.type = 'checkbox';
    input.id = id;
    input.checked = checked;
    input.addEventListener('change', () => onChange(input.checked));
    label.append(input, ...parts);
    return label;
  }

  function buildFilters() {
    const kindBox = byId('kind-filter');
    for (const k of KINDS) {
      const count = (DATA.summary.by_kind[k.id] || { passages: 0 }).passages;
      kindBox.appendChild(checkRow('filter-kind-' + k.id, true, (on) => { state.kinds[k.id] = on; applyFilters(); },
        [swatch('k-' + k.id, k.label), el('span', 'grow'), el('span', 'num', fmt(count))]));
    }
    const attrBox = byId('attribution-filter');
    const attrCounts = {};
    for (const p of P) attrCounts[attrOf(p)] = (attrCounts[attrOf(p)] || 0) + 1;
    for (const a of ATTRS) {
      attrBox.appendChild(checkRow('filter-attribution-' + a.id, true, (on) => { state.attrs[a.id] = on; applyFilters(); },
        [pill(a.id), el('span', 'grow', a.label), el('span', 'num', fmt(attrCounts[a.id] || 0))]));
    }
    const sourceBox = byId('source-filter');
    SOURCES.forEach((s, i) => {
      const row = el('div', 'source-row');
      const input = el('input');
      input.type = 'checkbox';
      input.id = 'filter-source-' + i;
      input.checked = true;
      input.addEventListener('change', () => { state.sources[i] = input.checked; applyFilters(); });
      const label = el('label', null, s.name);
      label.htmlFor = input.id;
      label.title = s.path || s.id;
      const show = button('show', 'Show', 'Show source ' + s.name);
      show.addEventListener('click', () => {
        openSheet();
        showSource(i);
      });
      const stats = el('div', 'stats');
      stats.append(meter(null, s.share), el('span', null, pct(s.share) + ' of the query \u00b7 ' +
        fmt(s.passages) + ' passage' + (s.passages === 1 ? '' : 's')));
      row.append(input, label, show, stats);
      sourceBox.appendChild(row);
      sourceSelect.appendChild(new Option(s.name, String(i)));
    });
    const others = DATA.sources_searched - SOURCES.length;
    if (others > 0) {
      sourceBox.appendChild(el('p', 'unused', fmt(others) + ' other source' + (others === 1 ? '' : 's') +
        ' searched: no reuse found.'));
    }
    if (!SOURCES.length) {
      sourceSelect.appendChild(new Option('No source', ''));
      sourceSelect.disabled = true;
      sourceBody.appendChild(el('p', 'empty-note', 'No passage of the query was found in the sources.'));
    }
  }

  function applyFilters() {
    restyle(Q);
    for (const view of views) if (view) restyle(view);
    let shown = 0;
    findingButtons.forEach((b, i) => {
      const visible = findingVisible(i);
      b.parentNode.hidden = !visible;
      if (visible) shown++;
    });
    byId('findings-count').textContent = shown === F.length
      ? '(' + fmt(F.length) + ')'
      : '(' + fmt(shown) + ' of ' + fmt(F.length) + ')';
  }

  function buildLegend() {
    const legend = byId('legend');
    const section = (title, rows) => {
      legend.appendChild(el('p', 'legend-head', title));
      const list = el('ul', 'legend-list');
      for (const [sample, what] of rows) {
        const li = el('li');
        li.append(sample, el('span', 'what', what));
        list.appendChild(li);
      }
      legend.appendChild(list);
    };
    section('Kind: colour and underline', KINDS.map((k) => [swatch('k-' + k.id, k.label), k.cue]));
    section('Attribution: mark before the passage', ATTRS.map((a) => {
      const sample = el('span');
      sample.append(pill(a.id), ' ' + a.label);
      return [sample, a.cue];
    }));
    const caret = el('span', 'swatch');
    caret.append('word', el('span', 'gap', CARET), 'word');
    section('Differences from the source', [
      [swatch('d-changed', 'changed'), 'wavy underline, bold'],
      [swatch('d-added', 'added'), 'boxed: in the query only'],
      [caret, 'caret: words dropped from the source'],
      [swatch('d-dropped', 'dropped'), 'struck out (source pane)'],
      [swatch('d-variant', 'variant'), 'dotted: spelling, case or typography (harmless)'],
      [swatch('d-editorial', '[\u2026]'), 'italic, dotted: editorial mark'],
    ]);
    const flag = el('span', 'flag', FLAG + '1');
    section('Other marks', [
      [flag, 'a finding starts here'],
      [swatch('cit', '(Smith 1999)'), 'citation'],
      [swatch('cit cit-not_in_corpus', '[7]'), 'citation of a work not in the corpus'],
      [swatch('cur', 'selected'), 'the passage or finding you chose'],
    ]);
    const keys = (k, what) => {
      const sample = el('span');
      for (const key of k) sample.append(el('kbd', null, key), ' ');
      return [sample, what];
    };
    section('Keys', [
      keys(['n', 'p'], 'next / previous finding'),
      keys(['j', 'k'], 'next / previous passage'),
      keys(['Esc'], 'close the source sheet (phone)'),
    ]);
  }

  function buildNotes() {
    const notes = byId('notes');
    for (const s of DATA.skipped) notes.appendChild(el('li', null, 'Skipped ' + s.path + ': ' + s.reason));
    for (const w of DATA.warnings) notes.appendChild(el('li', null, w));
    if (notes.children.length) byId('notes-box').hidden = false;
  }

  // ------------------------------------------------------------------ events

  queryBody.addEventListener('click', (ev) => {
    const target = ev.target.closest('button, span');
    if (!target || !queryBody.contains(target)) return;
    if (target.dataset.f != null) selectFinding(Number(target.dataset.f), { focus: false });
    else if (target.dataset.p != null) selectPassage(Number(target.dataset.p), {});
    else if (target._p) {
      const i = firstVisible(target._p);
      if (i >= 0) selectPassage(i, { at: target });
    }
  });

  sourceBody.addEventListener('click', (ev) => {
    const target = ev.target.closest('span');
    if (!target || !target._p) return;
    const i = firstVisible(target._p);
    if (i >= 0) selectPassage(i, { at: target, scrollQuery: true });
  });

  findingsList.addEventListener('click', (ev) => {
    const target = ev.target.closest('button.finding');
    if (target) selectFinding(Number(target.dataset.f), { focus: false });
  });

  sourceSelect.addEventListener('change', () => {
    if (sourceSelect.value === '') return;
    clearCurrent();
    choosePassage(-1);
    detail.replaceChildren();
    showSource(Number(sourceSelect.value));
  });

  sheetToggle.addEventListener('click', () => {
    if (document.body.classList.contains('sheet-open')) closeSheet();
    else openSheet();
  });

  byId('keep-breaks').addEventListener('change', (ev) => {
    document.body.classList.toggle('keep-breaks', ev.target.checked);
  });

  byId('next-finding').addEventListener('click', () => step(1));
  byId('prev-finding').addEventListener('click', () => step(-1));

  document.addEventListener('keydown', (ev) => {
    if (ev.defaultPrevented || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const t = ev.target;
    const typing = t && (t.isContentEditable || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' ||
      (t.tagName === 'INPUT' && t.type !== 'checkbox'));
    if (typing) return;
    if (ev.key === 'n') step(1);
    else if (ev.key === 'p') step(-1);
    else if (ev.key === 'j') stepPassage(1);
    else if (ev.key === 'k') stepPassage(-1);
    else if (ev.key === 'Escape' && document.body.classList.contains('sheet-open')) closeSheet();
    else return;
    ev.preventDefault();
  });

  // ------------------------------------------------------------------ start

  buildHeader();
  buildFindings();
  buildFilters();
  buildLegend();
  buildNotes();
  if (narrowQuery.matches) {
    byId('filters-box').open = false;
    byId('legend-box').open = false;
  }
  if (SOURCES.length) showSource(0);
  else byId('source-meta').textContent = '';
  if (!P.length) {
    detail.replaceChildren(el('p', 'hint', 'No reuse found: nothing to compare.'));
  } else {
    detail.replaceChildren(el('p', 'hint',
      'Click a highlighted passage or a finding to see where it comes from' +
      (F.length ? ' (n: next finding).' : '.')));
  }
  // Lay the page out now, so the ready mark counts the layout as well as the script.
  void document.body.offsetHeight;
  document.documentElement.dataset.ready = 'true';
  performance.mark('stemmatic-ready');
})();
