// The page of `cvmattest serve` (docs/service.md). Everything the service answers is shown
// with textContent only: results carry text from the evidence and the request.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);

  // Checks grouped as in docs/reasons.md, by the reason code's prefix. A group is shown when
  // the verifier always runs it for this TEE, or when a reason falls in it. Certificates and
  // collateral are a hardware report's or quote's: a bare TPM quote (tee "tpm") has neither,
  // and they are shown for it only when a reason names them.
  const HARDWARE = ['sev-snp', 'tdx', 'azure-snp', 'azure-tdx', 'svsm-vtpm'];
  const GROUPS = [
    { name: 'Parsing', prefixes: ['PARSE_'], always: true },
    { name: 'Certificates and revocation', prefixes: ['CERT_', 'CRL_'], tees: HARDWARE, unknownTee: true },
    { name: 'Collateral', prefixes: ['COLLATERAL_'], tees: HARDWARE, unknownTee: true },
    { name: 'AMD SEV-SNP report', prefixes: ['SNP_'], tees: ['sev-snp', 'azure-snp', 'svsm-vtpm'] },
    { name: 'Intel TDX quote', prefixes: ['TDX_'], tees: ['tdx', 'azure-tdx'] },
    { name: 'TPM quote', prefixes: ['TPM_'], tees: ['tpm'] },
    { name: 'Azure', prefixes: ['AZURE_'], tees: ['azure-snp', 'azure-tdx'] },
    { name: 'vTPM binding', prefixes: ['VTPM_'] },
    { name: 'Event log', prefixes: ['EVENTLOG_'] },
    { name: 'Nonce (REPORT_DATA)', prefixes: ['NONCE_'], nonce: true },
    { name: 'Appraisal policy', prefixes: ['POLICY_'], policy: true },
    { name: 'Provider binding', prefixes: ['REGISTRY_'], provider: true },
    { name: 'Platform', prefixes: ['PLATFORM_'] },
    { name: 'Attested TLS', prefixes: ['ATLS_'] },
    { name: 'Internal', prefixes: ['INTERNAL_'] },
  ];

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function setText(id, text) {
    const s = text === undefined || text === null || text === '' ? '—' : String(text);
    $(id).textContent = s;
  }

  function bytesToBase64(bytes) {
    let bin = '';
    const chunk = 0x8000;
    for (let i = 0; i < bytes.length; i += chunk) {
      bin += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
    }
    return btoa(bin);
  }

  async function evidenceBase64() {
    const f = $('evidence-file').files;
    if (f && f.length > 0) {
      return bytesToBase64(new Uint8Array(await f[0].arrayBuffer()));
    }
    const text = $('evidence').value.trim();
    if (text === '') return null;
    // The service detects a bundle, hex or base64 text inside what it decodes.
    return bytesToBase64(new TextEncoder().encode(text));
  }

  function showError(http, err) {
    $('result').hidden = true;
    const box = $('error');
    const e = err && typeof err === 'object' ? err : {};
    setText('error-code', e.code || 'ERROR');
    setText('error-http', http);
    setText('error-message', e.message || 'the service gave no explanation');
    setText('error-rid', e.request_id);
    box.hidden = false;
    $('error-title').focus();
  }

  // One line: ok true (green), false (red), or a severity for a reason.
  function line(kind, mark, title, code, detail) {
    const li = el('li', 'check ' + kind);
    li.setAttribute('data-kind', kind);
    li.appendChild(el('span', 'mark', mark)).setAttribute('aria-hidden', 'true');
    li.appendChild(el('span', 'title', title));
    if (code) li.appendChild(el('code', 'code', code));
    if (detail) li.appendChild(el('span', 'detail', detail));
    return li;
  }

  function showChecks(res, hadNonce) {
    const ul = $('checks');
    clear(ul);
    const reasons = Array.isArray(res.reasons) ? res.reasons : [];
    const used = new Set();
    const hasProvider = res.platform && res.platform.provider;
    // The service names the policy it appraised with (docs/service.md): its group is shown,
    // passed or not, with the policy's id beside it.
    const policyId = typeof res.policy_id === 'string' ? res.policy_id : null;
    const about = (g) => (g.policy && policyId !== null ? 'policy ' + policyId : null);
    // A group with no reason of its own is "passed" only when it is known to have run. The
    // verifier stops early on evidence that did not parse, and on a chain, revocation or
    // signature it cannot verify: the result then has empty claims (docs/results.md: claims
    // are filled exactly when the evidence's signature verified), and the later groups never
    // ran. An undecided result lacked collateral: what needed it was not decided.
    const unparsed = reasons.some((r) => r && r.severity === 'error' &&
      typeof r.code === 'string' && r.code.startsWith('PARSE_'));
    const claims = res.claims && typeof res.claims === 'object' ? res.claims : {};
    const unsigned = Object.keys(claims).length === 0;
    const undecided = res.undecided === true;
    const has = (c) => reasons.some((r) => r && r.code === c);
    // Undecided for want of a registry alone (REGISTRY_UNAVAILABLE, no COLLATERAL_UNAVAILABLE):
    // binding runs after the evidence verified, so the evidence's own checks did run; what
    // rests on the binding (the provider, the platform, a policy's provider rule) is not
    // decided. For want of collateral (or for a reason not named), nothing past parsing is.
    const registryOnly = undecided && has('REGISTRY_UNAVAILABLE') && !has('COLLATERAL_UNAVAILABLE');
    function restsOnBinding(g) {
      return g.provider || g.prefixes.includes('POLICY_') || g.prefixes.includes('PLATFORM_');
    }
    // Undecided comes before unsigned: a result undecided for want of collateral has empty
    // claims too, but nothing in it was refused.
    function notRun(g) {
      if (g.prefixes.includes('PARSE_')) return null;
      if (unparsed) return ['–', 'not checked (the evidence did not parse)'];
      if (undecided && !g.nonce && (!registryOnly || restsOnBinding(g))) {
        return ['?', 'not decided (' + undecidedWhy(reasons) + ')'];
      }
      if (unsigned) return ['–', 'not checked (the evidence\'s signature was not verified)'];
      return null;
    }
    // An error that says something could not be had is "not decided", not a refusal.
    const UNAVAILABLE = ['COLLATERAL_UNAVAILABLE', 'REGISTRY_UNAVAILABLE'];
    for (const g of GROUPS) {
      const mine = reasons.filter((r) => r && typeof r.code === 'string' &&
        g.prefixes.some((p) => r.code.startsWith(p)));
      mine.forEach((r) => used.add(r));
      const applies = g.always || (g.tees && g.tees.includes(res.tee)) ||
        (g.unknownTee && typeof res.tee !== 'string') || (g.nonce && hadNonce) ||
        (g.provider && hasProvider) || (g.policy && policyId !== null);
      if (mine.length === 0 && !applies) continue;
      const errors = mine.filter((r) => r.severity === 'error');
      const failed = errors.length > 0;
      const warned = mine.some((r) => r.severity === 'warning');
      if (failed && undecided && errors.every((r) => UNAVAILABLE.includes(r.code))) {
        ul.appendChild(line('skipped', '?', g.name + ': not decided (' + undecidedWhy(reasons) + ')', null, about(g)));
      } else if (failed) {
        ul.appendChild(line('error', '✗', g.name + ': refused', null, about(g)));
      } else if (warned) {
        ul.appendChild(line('warning', '!', g.name + ': passed with warnings', null, about(g)));
      } else if (mine.some((r) => r.code === 'NONCE_NOT_CHECKED')) {
        // REPORT_DATA was compared with nothing: no nonce was given, so freshness is unknown.
        ul.appendChild(line('skipped', '–', g.name + ': not checked (no nonce was given)', null, about(g)));
      } else if (notRun(g) !== null) {
        const [mark, why] = notRun(g);
        ul.appendChild(line('skipped', mark, g.name + ': ' + why, null, about(g)));
      } else {
        ul.appendChild(line('ok', '✓', g.name + ': passed', null, about(g)));
      }
      for (const r of mine) {
        const kind = r.severity === 'error' ? 'error' : r.severity === 'warning' ? 'warning' : 'info';
        const mark = kind === 'error' ? '✗' : kind === 'warning' ? '!' : 'i';
        ul.appendChild(line(kind + ' reason', mark, r.severity, r.code, r.detail));
      }
    }
    for (const r of reasons) {
      if (used.has(r) || !r) continue;
      const kind = r.severity === 'error' ? 'error' : r.severity === 'warning' ? 'warning' : 'info';
      const mark = kind === 'error' ? '✗' : kind === 'warning' ? '!' : 'i';
      ul.appendChild(line(kind + ' reason', mark, r.severity, r.code, r.detail));
    }
  }

  // Claims as nested definition lists.
  function tree(v) {
    if (v === null || typeof v !== 'object') {
      return el('span', 'value', v === null ? 'null' : String(v));
    }
    if (Array.isArray(v)) {
      if (v.length === 0) return el('span', 'value', '[]');
      const ol = el('ol', 'claims-list');
      for (const x of v) {
        const li = el('li');
        li.appendChild(tree(x));
        ol.appendChild(li);
      }
      return ol;
    }
    const keys = Object.keys(v);
    if (keys.length === 0) return el('span', 'value', '{}');
    const dl = el('dl', 'claims-tree');
    for (const k of keys) {
      dl.appendChild(el('dt', null, k));
      const dd = el('dd');
      dd.appendChild(tree(v[k]));
      dl.appendChild(dd);
    }
    return dl;
  }

  // Why a result is undecided, from its reasons (docs/reasons.md: COLLATERAL_UNAVAILABLE,
  // REGISTRY_UNAVAILABLE); both may be there.
  function undecidedWhy(reasons) {
    const has = (c) => reasons.some((r) => r && r.code === c);
    const why = [];
    if (has('COLLATERAL_UNAVAILABLE')) why.push('collateral could not be had');
    if (has('REGISTRY_UNAVAILABLE')) why.push('a registry or its shared state could not be had');
    return why.length > 0 ? why.join('; ') : 'something the verifier needed could not be had';
  }

  function exitStatus(res) {
    if (res.undecided === true) {
      return '3 (undecided: ' + undecidedWhy(Array.isArray(res.reasons) ? res.reasons : []) + ')';
    }
    if (res.status === 'affirming' || res.status === 'warning') return '0';
    return '1';
  }

  function showResult(res, hadNonce) {
    $('error').hidden = true;
    const status = typeof res.status === 'string' ? res.status : 'contraindicated';
    const verdict = $('verdict');
    verdict.className = 'verdict ' + (status === 'affirming' ? 'ok' :
      status === 'warning' ? 'warning' : 'error');
    verdict.setAttribute('data-status', status);
    setText('verdict-mark', status === 'affirming' ? '✓' : status === 'warning' ? '!' : '✗');
    setText('verdict-status', status + (res.undecided === true ? ' (undecided)' : ''));
    setText('exit-status', exitStatus(res));
    setText('tee', res.tee);
    setText('verified-at', res.verified_at);
    setText('trust-anchor', res.trust_anchor);
    setText('request-id', res.request_id);
    showChecks(res, hadNonce);
    const p = res.platform && typeof res.platform === 'object' ? res.platform : {};
    const labels = p.labels && typeof p.labels === 'object' ? p.labels : {};
    setText('platform-vendor', p.vendor);
    setText('platform-id', p.id ? (p.id_type ? p.id_type + ' ' : '') + p.id : '');
    setText('platform-provider', p.provider ? p.provider : 'not bound to a provider registry');
    setText('platform-region', labels.region);
    setText('platform-labels', Object.keys(labels).map((k) => k + '=' + labels[k]).join(', '));
    const claims = $('claims');
    clear(claims);
    claims.appendChild(tree(res.claims || {}));
    $('token').value = typeof res.token === 'string' ? res.token : '(no result key configured: no token)';
    $('result').hidden = false;
    $('result').setAttribute('data-ready', '1');
    $('result-title').focus();
  }

  async function onVerify(ev) {
    ev.preventDefault();
    $('result').removeAttribute('data-ready');
    let b64;
    try {
      b64 = await evidenceBase64();
    } catch (e) {
      showError('-', { code: 'UNREADABLE_FILE', message: String(e) });
      return;
    }
    if (b64 === null) {
      showError('-', { code: 'NO_EVIDENCE', message: 'paste evidence or choose a file first' });
      return;
    }
    const body = { evidence: b64 };
    const nonce = $('nonce').value.trim();
    const policy = $('policy').value.trim();
    if (nonce !== '') body.nonce = nonce;
    if (policy !== '') body.policy = policy;
    $('busy').hidden = false;
    $('verify').disabled = true;
    try {
      const r = await fetch('/v1/verify', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      let j = null;
      try {
        j = await r.json();
      } catch (e) {
        j = null;
      }
      if (!r.ok || j === null || typeof j !== 'object' || j.error) {
        showError(r.status, j && j.error ? j.error : { message: 'not a JSON answer' });
      } else {
        try {
          showResult(j, nonce !== '');
        } catch (e) {
          showError(r.status, { code: 'PAGE', message: 'the answer could not be shown: ' + String(e) });
        }
      }
      // A nonce is single-use: the next request needs a new one.
      if (nonce !== '') $('nonce').value = '';
    } catch (e) {
      showError('-', { code: 'NETWORK', message: String(e) });
    } finally {
      $('busy').hidden = true;
      $('verify').disabled = false;
    }
  }

  async function onNonce() {
    try {
      const r = await fetch('/v1/nonce');
      let j = null;
      try {
        j = await r.json();
      } catch (e) {
        j = null;
      }
      if (!r.ok || j === null || typeof j !== 'object' || typeof j.nonce !== 'string') {
        showError(r.status, j && j.error ? j.error : { message: 'not a JSON answer' });
        return;
      }
      $('nonce').value = j.nonce;
    } catch (e) {
      showError('-', { code: 'NETWORK', message: String(e) });
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('verify-form').addEventListener('submit', onVerify);
    $('get-nonce').addEventListener('click', onNonce);
    $('clear-file').addEventListener('click', () => { $('evidence-file').value = ''; });
    document.body.setAttribute('data-app', 'ready');
  });
})();
