// iotwatch web console: plain JavaScript over the REST API (/api/v1), no build step.
// Everything shown comes from network traffic (client ids, topics, usernames), so it is put
// into the page as text nodes only, never as markup.
(function () {
  'use strict';

  var API = '/api/v1';
  var SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];
  var SEVERITY_RANK = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
  var TOKEN_KEY = 'iotwatch.token';
  var NAME_KEY = 'iotwatch.name';
  var PAGE = 100;
  // Bucket lengths the timeline picks from (seconds), for about 60 bars over the range.
  var BUCKETS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

  var state = {
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    cursor: null,
    alerts: new Map(),
    selected: null,
    detectors: new Set(),
    view: 'alerts',
    certificatesLoaded: false,
  };

  // ---------------------------------------------------------------- helpers

  function $(id) { return document.getElementById(id); }

  /** el('td', {class: 'x'}, 'text', childNode...): strings become text nodes. */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'class') node.className = v;
        else if (k === 'dataset') Object.keys(v).forEach(function (d) { node.dataset[d] = v[d]; });
        else node.setAttribute(k, v === true ? '' : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(node, c); });
    else node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }

  var SVG_NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c !== null && c !== undefined) node.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function pad(n, w) { var s = String(n); while (s.length < (w || 2)) s = '0' + s; return s; }

  /** µs since the epoch -> "2026-11-24 21:40:05.123" (UTC). */
  function fmtTime(us) {
    if (us === null || us === undefined) return '';
    var d = new Date(Math.floor(us / 1000));
    if (isNaN(d.getTime())) return String(us);
    return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' +
      pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds()) + '.' + pad(d.getUTCMilliseconds(), 3);
  }

  function fmtShort(us, withDate) {
    var s = fmtTime(us);
    return withDate ? s.slice(5, 16) : s.slice(11, 19);
  }

  function fmtDuration(seconds) {
    if (seconds % 86400 === 0) return seconds / 86400 + ' d';
    if (seconds % 3600 === 0) return seconds / 3600 + ' h';
    if (seconds % 60 === 0) return seconds / 60 + ' min';
    return seconds + ' s';
  }

  function fmtValue(v) {
    if (v === null || v === undefined) return '—';
    if (Array.isArray(v)) return v.length === 0 ? '(none)' : v.join(', ');
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    return String(v);
  }

  function severityBadge(s) { return el('span', { class: 'sev sev-' + s }, s); }

  function showMessage(text, kind) {
    var m = $('message');
    if (!text) { m.hidden = true; return; }
    m.textContent = text;
    m.className = 'message ' + (kind || 'error');
    m.hidden = false;
  }

  // ---------------------------------------------------------------- API

  function ApiFailure(status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message;
  }

  function api(path, opts) {
    opts = opts || {};
    var headers = { accept: 'application/json' };
    if (state.token) headers.authorization = 'Bearer ' + state.token;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(API + path, {
      method: opts.method || 'GET',
      headers: headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      cache: 'no-store',
    }).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
        if (res.ok) return body;
        var err = (body && body.error) || {};
        var failure = new ApiFailure(res.status, err.code || 'http_' + res.status, err.message || res.statusText);
        if (res.status === 401 && !opts.quiet) askForToken(failure.message);
        throw failure;
      });
    });
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v !== undefined && v !== null && v !== '') parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
    });
    return parts.length ? '?' + parts.join('&') : '';
  }

  function report(err) {
    if (err instanceof ApiFailure) {
      if (err.status === 401) return; // the token form says it
      showMessage(err.message + ' (' + err.code + ')');
    } else {
      showMessage('Cannot reach the API: ' + (err && err.message ? err.message : String(err)));
    }
  }

  // ---------------------------------------------------------------- token

  function askForToken(why) {
    $('token-form').hidden = false;
    $('token-error').textContent = state.token ? 'The token was refused: ' + why : '';
    $('token-input').focus();
  }

  function initToken() {
    $('token-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var t = $('token-input').value.trim();
      if (!t) return;
      state.token = t;
      sessionStorage.setItem(TOKEN_KEY, t);
      $('token-input').value = '';
      $('token-form').hidden = true;
      $('token-clear').hidden = false;
      refresh();
    });
    $('token-clear').hidden = !state.token;
    $('token-clear').addEventListener('click', function () {
      state.token = '';
      sessionStorage.removeItem(TOKEN_KEY);
      $('token-clear').hidden = true;
      refresh();
    });
  }

  // ---------------------------------------------------------------- health

  function loadHealth() {
    return api('/health', { quiet: true }).then(function (h) {
      var node = $('health');
      node.textContent = h.status + ' · ' + h.store.kind + ' store';
      node.className = 'health health-' + h.status;
      node.title = h.store.detail + (h.capture ? ' · capture: ' + h.capture.detail : '');
    }, function (err) {
      var node = $('health');
      node.textContent = err instanceof ApiFailure && err.status === 503 ? 'down' : 'unreachable';
      node.className = 'health health-down';
    });
  }

  // ---------------------------------------------------------------- filters

  function timeParam(id) {
    var v = $(id).value;
    return v ? v + 'Z' : '';
  }

  function filters() {
    return {
      detector: $('f-detector').value,
      minSeverity: $('f-severity').value,
      status: $('f-status').value,
      q: $('f-q').value.trim(),
      from: timeParam('f-from'),
      to: timeParam('f-to'),
      sort: $('f-sort').value,
    };
  }

  function initFilters() {
    $('filters').addEventListener('submit', function (ev) {
      ev.preventDefault();
      refresh();
    });
    $('reset-filters').addEventListener('click', function () {
      $('filters').reset();
      refresh();
    });
    ['f-detector', 'f-severity', 'f-status', 'f-sort'].forEach(function (id) {
      $(id).addEventListener('change', function () { refresh(); });
    });
  }

  function addDetectors(names) {
    var select = $('f-detector');
    var fresh = false;
    names.forEach(function (d) {
      if (!state.detectors.has(d)) { state.detectors.add(d); fresh = true; }
    });
    if (!fresh) return;
    var current = select.value;
    while (select.options.length > 1) select.remove(1);
    Array.from(state.detectors).sort().forEach(function (d) { select.appendChild(el('option', { value: d }, d)); });
    select.value = current;
  }

  // ---------------------------------------------------------------- alert list

  function loadAlerts(more) {
    var f = filters();
    var params = {
      detector: f.detector, minSeverity: f.minSeverity, status: f.status, q: f.q, from: f.from, to: f.to,
      sort: f.sort, order: 'desc', limit: PAGE, cursor: more ? state.cursor : '',
    };
    return api('/alerts' + query(params)).then(function (page) {
      var body = $('alerts').tBodies[0];
      if (!more) {
        clear(body);
        state.alerts.clear();
      }
      page.alerts.forEach(function (a) {
        state.alerts.set(a.id, a);
        body.appendChild(alertRow(a));
      });
      addDetectors(page.alerts.map(function (a) { return a.detector; }));
      state.cursor = page.nextCursor;
      $('more').hidden = !page.nextCursor;
      $('alerts-empty').hidden = state.alerts.size > 0;
      $('alert-count').textContent = state.alerts.size + (page.nextCursor ? '+ alerts' : state.alerts.size === 1 ? ' alert' : ' alerts');
      markSelected();
    });
  }

  function alertRow(a) {
    var row = el('tr', { tabindex: 0, class: 'alert-row', dataset: { id: a.id, detector: a.detector, status: a.status } },
      el('td', null, severityBadge(a.severity)),
      el('td', { class: 'detector' }, a.detector),
      el('td', { class: 'entity' }, el('span', { class: 'kind' }, a.entity.kind), ' ', a.entity.value),
      el('td', { class: 'summary' }, a.summary),
      el('td', { class: 'time', title: fmtTime(a.lastTs) }, fmtTime(a.lastTs).slice(0, 19)),
      el('td', null, el('span', { class: 'status status-' + a.status }, a.status)));
    row.addEventListener('click', function () { selectAlert(a.id); });
    row.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); selectAlert(a.id); }
    });
    return row;
  }

  function markSelected() {
    Array.from($('alerts').tBodies[0].rows).forEach(function (r) {
      r.classList.toggle('selected', r.dataset.id === state.selected);
    });
  }

  function replaceRow(a) {
    state.alerts.set(a.id, a);
    var body = $('alerts').tBodies[0];
    Array.from(body.rows).forEach(function (r) {
      if (r.dataset.id === a.id) body.replaceChild(alertRow(a), r);
    });
    markSelected();
  }

  // ---------------------------------------------------------------- alert detail

  function selectAlert(id) {
    state.selected = id;
    markSelected();
    return api('/alerts/' + encodeURIComponent(id)).then(renderDetail, report);
  }

  function renderDetail(a) {
    var box = $('detail');
    clear(box);
    box.dataset.id = a.id;

    var facts = [
      ['Entity', [el('span', { class: 'kind' }, a.entity.kind), ' ', a.entity.value]],
      ['Detector', a.detector + ' (' + a.category + ')'],
      ['First seen', fmtTime(a.firstTs) + ' UTC'],
      ['Last seen', fmtTime(a.lastTs) + ' UTC'],
      ['Events', String(a.count)],
      ['Sensor', a.sensor],
      ['MITRE ATT&CK for ICS', a.mitre || '—'],
      ['Alert id', el('code', null, a.id)],
    ];

    var ev = a.evidence || {};
    var main = ['observed', 'baseline', 'threshold', 'window'];
    var evidenceRows = [];
    if (ev.metric !== undefined) evidenceRows.push(['metric', ev.metric]);
    main.forEach(function (k) {
      if (k in ev) evidenceRows.push([k, k === 'window' ? (ev.window ? fmtDuration(ev.window) : 'single fact') : ev[k]]);
    });
    Object.keys(ev).filter(function (k) { return k !== 'metric' && main.indexOf(k) < 0; }).sort().forEach(function (k) {
      evidenceRows.push([k, ev[k]]);
    });

    append(box, [
      el('div', { class: 'detail-head' },
        severityBadge(a.severity),
        el('span', { class: 'status status-' + a.status, id: 'detail-status' }, a.status),
        el('span', { class: 'muted' }, a.detector)),
      el('h2', { class: 'detail-summary' }, a.summary),
      el('dl', { class: 'facts' }, facts.map(function (f) { return [el('dt', null, f[0]), el('dd', null, f[1])]; })),
      el('h3', null, 'Evidence'),
      el('table', { class: 'evidence', id: 'evidence' },
        el('tbody', null, evidenceRows.map(function (r) {
          return el('tr', { class: main.indexOf(r[0]) >= 0 ? 'key' : null }, el('th', null, r[0]), el('td', null, fmtValue(r[1])));
        }))),
      el('h3', null, 'Recommendation'),
      el('p', { class: 'recommendation', id: 'recommendation' }, a.recommendation),
      el('h3', null, 'Endpoints'),
      el('ul', { class: 'endpoints' }, a.endpoints.length ? a.endpoints.map(function (e) { return el('li', null, el('code', null, e)); }) : el('li', { class: 'muted' }, 'none')),
      el('p', { class: 'muted small' }, 'Frames (packet numbers): ', a.frames.length ? a.frames.join(', ') : 'none'),
      a.communityIds.length ? el('p', { class: 'muted small' }, 'Community IDs: ', a.communityIds.join(', ')) : null,
      statusForm(a),
    ]);
  }

  function statusForm(a) {
    var note = el('input', { type: 'text', id: 'status-note', maxlength: 4096, placeholder: 'note (optional)' });
    var name = el('input', { type: 'text', id: 'status-by', maxlength: 128, placeholder: 'your name (optional)' });
    name.value = localStorage.getItem(NAME_KEY) || '';
    var info = a.statusBy
      ? el('p', { class: 'muted small' }, a.status + ' by ' + a.statusBy + (a.statusAt ? ' at ' + fmtTime(a.statusAt * 1000) + ' UTC' : '') + (a.statusNote ? ': ' + a.statusNote : ''))
      : null;
    function button(status, label) {
      var b = el('button', { type: 'button', class: status === 'acknowledged' ? '' : 'secondary', id: 'set-' + status, disabled: a.status === status }, label);
      b.addEventListener('click', function () {
        var by = name.value.trim();
        if (by) localStorage.setItem(NAME_KEY, by);
        var body = { status: status, note: note.value.trim() || null };
        if (by) body.by = by;
        b.disabled = true;
        api('/alerts/' + encodeURIComponent(a.id), { method: 'PATCH', body: body }).then(function (updated) {
          showMessage('');
          replaceRow(updated);
          renderDetail(updated);
        }, function (err) {
          b.disabled = false;
          if (err instanceof ApiFailure && err.status === 403) showMessage('This token is read-only: a read-write token is needed to change an alert\'s status.');
          else report(err);
        });
      });
      return b;
    }
    return el('div', { class: 'status-form' },
      el('h3', null, 'Status'),
      info,
      el('div', { class: 'row' }, name, note),
      el('div', { class: 'row' }, button('acknowledged', 'Acknowledge'), button('closed', 'Close'), button('open', 'Reopen')));
  }

  // ---------------------------------------------------------------- timeline

  /** The range to chart: the filter's from/to, else the span of the stored alerts. */
  function timelineRange(f) {
    var from = f.from ? Date.parse(f.from) * 1000 : null;
    var to = f.to ? Date.parse(f.to) * 1000 : null;
    var jobs = [];
    if (from === null) jobs.push(api('/alerts' + query({ sort: 'firstTs', order: 'asc', limit: 1 })).then(function (p) { if (p.alerts[0]) from = p.alerts[0].firstTs; }));
    if (to === null) jobs.push(api('/alerts' + query({ sort: 'lastTs', order: 'desc', limit: 1 })).then(function (p) { if (p.alerts[0]) to = p.alerts[0].lastTs; }));
    return Promise.all(jobs).then(function () {
      if (from === null || to === null) return null;
      if (to - from < 60e6) { var mid = (from + to) / 2; from = mid - 30e6; to = mid + 30e6; }
      return { from: Math.max(0, Math.floor(from)), to: Math.ceil(to) };
    });
  }

  function loadTimeline() {
    var f = filters();
    return timelineRange(f).then(function (range) {
      var box = $('timeline');
      if (!range) {
        clear(box);
        box.appendChild(el('p', { class: 'muted empty' }, 'No alerts yet.'));
        $('timeline-caption').textContent = '';
        return;
      }
      var span = (range.to - range.from) / 1e6;
      var bucket = BUCKETS[BUCKETS.length - 1];
      for (var i = 0; i < BUCKETS.length; i++) if (span / BUCKETS[i] <= 60) { bucket = BUCKETS[i]; break; }
      return api('/stats' + query({ from: range.from, to: range.to, bucket: String(bucket) })).then(function (stats) {
        addDetectors(stats.buckets.map(function (b) { return b.detector; }));
        drawTimeline(stats, f);
      });
    });
  }

  function drawTimeline(stats, f) {
    var box = $('timeline');
    clear(box);
    var b = stats.bucketSeconds * 1e6;
    var start = Math.floor(stats.from / b) * b;
    var n = Math.max(1, Math.floor((stats.to - start) / b) + 1);
    var minRank = f.minSeverity ? SEVERITY_RANK[f.minSeverity] : 0;
    var counts = [];
    for (var i = 0; i < n; i++) counts.push({});
    var total = 0;
    stats.buckets.forEach(function (x) {
      if (f.detector && x.detector !== f.detector) return;
      if (SEVERITY_RANK[x.severity] < minRank) return;
      var k = Math.floor((x.ts - start) / b);
      if (k < 0 || k >= n) return;
      counts[k][x.severity] = (counts[k][x.severity] || 0) + x.count;
      total += x.count;
    });
    var max = 1;
    counts.forEach(function (c) {
      var sum = 0;
      SEVERITIES.forEach(function (s) { sum += c[s] || 0; });
      if (sum > max) max = sum;
    });

    // Drawn at the box's own width, so text is never scaled.
    var W = Math.max(320, Math.round(box.clientWidth || 1000)), H = 170, L = 44, R = 10, T = 10, B = 26;
    var pw = W - L - R, ph = H - T - B;
    var bw = pw / n;
    var chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart', role: 'img', 'aria-label': 'Alerts over time by severity' });
    chart.appendChild(svg('line', { x1: L, y1: T + ph, x2: L + pw, y2: T + ph, class: 'axis' }));
    [0, 0.5, 1].forEach(function (q) {
      var y = T + ph - q * ph;
      var v = Math.round(max * q);
      if (q > 0) chart.appendChild(svg('line', { x1: L, y1: y, x2: L + pw, y2: y, class: 'grid' }));
      chart.appendChild(svg('text', { x: L - 6, y: y + 4, class: 'tick', 'text-anchor': 'end' }, String(v)));
    });
    var withDate = stats.to - stats.from > 86400e6;
    var ticks = Math.min(n, 6);
    for (var t = 0; t < ticks; t++) {
      var k = Math.round(t * (n - 1) / Math.max(1, ticks - 1));
      chart.appendChild(svg('text', { x: L + k * bw + bw / 2, y: H - 8, class: 'tick', 'text-anchor': 'middle' }, fmtShort(start + k * b, withDate)));
    }
    counts.forEach(function (c, k) {
      var y = T + ph;
      // Least severe at the bottom, critical on top.
      SEVERITIES.slice().reverse().forEach(function (s) {
        var v = c[s] || 0;
        if (!v) return;
        var h = v / max * ph;
        y -= h;
        chart.appendChild(svg('rect', {
          x: L + k * bw + Math.min(1, bw * 0.1), y: y, width: Math.max(1, bw - Math.min(2, bw * 0.2)), height: h,
          class: 'bar sev-fill-' + s, 'data-severity': s, 'data-count': v,
        }, svg('title', {}, fmtTime(start + k * b) + ' UTC: ' + v + ' ' + s)));
      });
    });
    box.appendChild(chart);
    box.appendChild(el('div', { class: 'legend' }, SEVERITIES.map(function (s) {
      return el('span', null, el('i', { class: 'swatch sev-fill-' + s }), s);
    })));
    $('timeline-caption').textContent = total + ' alerts by first seen, ' + fmtDuration(stats.bucketSeconds) + ' per bar, ' +
      fmtShort(stats.from, true) + ' to ' + fmtShort(stats.to, true) + ' UTC' + (f.status || f.q ? ' (status and search do not apply here)' : '');
  }

  // ---------------------------------------------------------------- certificates

  function loadCertificates() {
    var rows = [];
    function page(cursor) {
      return api('/inventory/tls' + query({ limit: 1000, cursor: cursor })).then(function (p) {
        rows = rows.concat(p.rows);
        if (p.nextCursor && rows.length < 5000) return page(p.nextCursor);
        return rows;
      });
    }
    return page('').then(function (rows) {
      // Endpoints without a certificate (PSK, or a handshake not seen) have nothing to expire.
      var all = rows.filter(function (c) { return c.sha256 !== ''; });
      var without = rows.length - all.length;
      all.sort(function (x, y) { return x.daysToExpiry - y.daysToExpiry || (x.server < y.server ? -1 : 1); });
      var body = $('certificates').tBodies[0];
      clear(body);
      all.forEach(function (c) {
        var d = c.daysToExpiry;
        var cls = d < 0 ? 'expired' : d < 30 ? 'soon' : d < 90 ? 'warn' : 'ok';
        body.appendChild(el('tr', { class: 'cert cert-' + cls, dataset: { sha256: c.sha256 } },
          el('td', null, el('span', { class: 'days days-' + cls }, d < 0 ? 'expired ' + -d + ' d ago' : d + ' d')),
          el('td', null, c.server),
          el('td', null, c.sni || '—'),
          el('td', { class: 'wrap' }, c.subject),
          el('td', { class: 'wrap' }, c.issuer),
          el('td', { class: 'time' }, fmtTime(c.notAfter).slice(0, 19)),
          el('td', null, c.selfSigned ? 'yes' : 'no'),
          el('td', { class: 'time' }, fmtTime(c.lastTs).slice(0, 19))));
      });
      $('certificates-empty').hidden = all.length > 0;
      $('cert-count').textContent = all.length + (all.length === 1 ? ' certificate' : ' certificates') +
        (without ? '; ' + without + (without === 1 ? ' endpoint' : ' endpoints') + ' without a certificate (PSK) not listed' : '');
      state.certificatesLoaded = true;
    });
  }

  // ---------------------------------------------------------------- views

  function showView(view) {
    state.view = view;
    ['alerts', 'certificates'].forEach(function (v) {
      $('view-' + v).hidden = v !== view;
      $('tab-' + v).setAttribute('aria-selected', String(v === view));
    });
    if (view === 'certificates') loadCertificates().catch(report);
  }

  function refresh() {
    showMessage('');
    loadHealth();
    var jobs = [loadAlerts(false), loadTimeline()];
    if (state.view === 'certificates') jobs.push(loadCertificates());
    if (state.selected) jobs.push(api('/alerts/' + encodeURIComponent(state.selected)).then(renderDetail));
    return Promise.all(jobs).then(function () {
      document.body.dataset.ready = 'true';
    }, report);
  }

  function init() {
    initToken();
    initFilters();
    $('more').addEventListener('click', function () { loadAlerts(true).catch(report); });
    Array.prototype.forEach.call(document.querySelectorAll('.tabs button'), function (b) {
      b.addEventListener('click', function () { showView(b.dataset.view); });
    });
    refresh();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
