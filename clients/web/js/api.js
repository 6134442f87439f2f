// api.js: the dashboard's access to the spiked API: fetch with the bearer token, errors as
// ApiError (the server's status, code, path and message), and the event stream.
//
// EventSource cannot send headers, so the stream carries the token as ?access_token=
// (accepted by the server on GET routes); the browser's EventSource reconnects by itself
// and sends Last-Event-ID, so spike batches continue where they stopped.

export class ApiError extends Error {
  constructor(status, code, path, message) {
    super(message);
    this.status = status;
    this.code = code;
    this.path = path || '';
  }

  toString() {
    const head = this.status ? `${this.status} ${this.code}` : this.code;
    return `${head}${this.path ? ' at ' + this.path : ''}: ${this.message}`;
  }
}

export class Api {
  constructor(base = '', token = '') {
    this.base = base;
    this.token = token;
  }

  headers(extra = {}) {
    const h = { Accept: 'application/json', ...extra };
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    return h;
  }

  // One request; resolves to the decoded JSON (null for 204), rejects with ApiError.
  async request(method, path, body) {
    const init = { method, headers: this.headers() };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    let resp;
    try {
      resp = await fetch(this.base + path, init);
    } catch (e) {
      throw new ApiError(0, 'connection', '', `cannot reach the server: ${e.message}`);
    }
    const text = await resp.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!resp.ok) {
      const e = data && data.error;
      if (e) throw new ApiError(e.status || resp.status, e.code, e.path, e.message);
      throw new ApiError(resp.status, 'http_error', '', text.slice(0, 200) || resp.statusText);
    }
    return data;
  }

  get(path) { return this.request('GET', path); }
  post(path, body) { return this.request('POST', path, body === undefined ? {} : body); }
  del(path) { return this.request('DELETE', path); }
  patch(path, body) { return this.request('PATCH', path, body); }

  session(name) { return `/v1/sessions/${encodeURIComponent(name)}`; }
  // Every session, following the listing's pages (next_cursor); at most `max` of them.
  async sessions(max = 1000) {
    let all = [], cursor = null;
    do {
      const q = cursor === null ? '' : `?cursor=${encodeURIComponent(cursor)}`;
      const r = await this.get(`/v1/sessions${q}`);
      all = all.concat(r.sessions || []);
      cursor = r.next_cursor === undefined ? null : r.next_cursor;
    } while (cursor !== null && all.length < max);
    return all.slice(0, max);
  }
  info(name) { return this.get(this.session(name)); }
  // The name goes in the query too, for a proxy that routes by session name (README
  // "Scale-out"); the server checks that both agree.
  create(body) {
    const q = typeof body.name === 'string' ? `?name=${encodeURIComponent(body.name)}` : '';
    return this.post(`/v1/sessions${q}`, body);
  }
  step(name, steps) { return this.post(this.session(name) + '/step', { steps }); }
  reset(name) { return this.post(this.session(name) + '/reset'); }
  remove(name) { return this.del(this.session(name)); }
  cancelJob(name, id) { return this.del(`${this.session(name)}/jobs/${id}`); }
  setRealtime(name, on) { return this.patch(this.session(name), { realtime: on }); }

  recordings(name, index, fromStep, limit) {
    const q = new URLSearchParams({ from_step: String(fromStep) });
    if (limit) q.set('limit', String(limit));
    return this.get(`${this.session(name)}/recordings/${index}?${q}`);
  }

  // The session's EventSource; handlers: {type: fn(data, event)} plus onerror/onopen.
  events(name, handlers) {
    const q = this.token ? `?access_token=${encodeURIComponent(this.token)}` : '';
    const es = new EventSource(`${this.base}${this.session(name)}/events${q}`);
    for (const [type, fn] of Object.entries(handlers)) {
      if (type === 'onerror' || type === 'onopen') es[type] = fn;
      else es.addEventListener(type, (ev) => fn(JSON.parse(ev.data), ev));
    }
    return es;
  }
}
