// jwt.mjs - mints tokens the way the server does, to test what it refuses.
//
// The key comes from the worker's configuration (`jwt_key = ...` or `jwt_key_file = PATH`,
// PATH relative to the configuration's directory).  How the server turns the file into key
// bytes (whole file, trailing newline cut, hex, base64) is not guessed: every reading is
// tried against the signature of a token the server issued, and the one that matches wins.
// A server signs tokens with the key it derives from jwt_key, HMAC-SHA512(jwt_key,
// "pingoo token v1") (docs/configuration.md); one of the release before, or under
// jwt_key_legacy = 2, with jwt_key itself: each reading is tried both ways.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readConfig } from './stack.mjs';

const HMAC = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function encodePart(obj) {
	return b64url(typeof obj === 'string' ? obj : JSON.stringify(obj));
}

export function hmac(alg, key, data) {
	const h = HMAC[alg];
	if (!h)
		throw new Error(`no HMAC for ${alg}`);
	return crypto.createHmac(h, key).update(data).digest();
}

// A compact JWS: header and payload are objects (or ready strings), signed with HMAC.
export function sign(header, payload, key, alg = header.alg) {
	const input = `${encodePart(header)}.${encodePart(payload)}`;
	return `${input}.${b64url(hmac(alg, key, input))}`;
}

export function unsigned(header, payload) {
	return `${encodePart(header)}.${encodePart(payload)}.`;
}

export function verifies(token, key, alg) {
	const parts = token.split('.');
	if (parts.length !== 3 || !HMAC[alg])
		return false;
	const want = hmac(alg, key, `${parts[0]}.${parts[1]}`);
	const got = Buffer.from(parts[2], 'base64url');
	return got.length === want.length && crypto.timingSafeEqual(got, want);
}

// The token key a server derives from jwt_key.
export function tokenKey(jwtKey) {
	return crypto.createHmac('sha512', jwtKey).update('pingoo token v1').digest();
}

function keyCandidates(raw) {
	const out = [['as is', raw]];
	const text = raw.toString('latin1');
	const add = (how, buf) => {
		if (buf && buf.length && !out.some(([, b]) => b.equals(buf)))
			out.push([how, buf]);
	};
	add('without the trailing newline', Buffer.from(text.replace(/\r?\n$/, ''), 'latin1'));
	const trimmed = text.trim();
	add('trimmed', Buffer.from(trimmed, 'latin1'));
	if (/^(?:[0-9a-fA-F]{2})+$/.test(trimmed))
		add('hex-decoded', Buffer.from(trimmed, 'hex'));
	if (/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed))
		add('base64-decoded', Buffer.from(trimmed, 'base64'));
	if (/^[A-Za-z0-9_-]+$/.test(trimmed))
		add('base64url-decoded', Buffer.from(trimmed, 'base64url'));
	for (const [how, key] of [...out])
		add(`${how}, the token key derived from it`, tokenKey(key));
	return out;
}

// {key, alg, issuer, audience, how} for minting, or {error} saying why there is none.
// `sample` is a token the server issued; without it the first reading of the key is taken.
export function serverKey(stack, sample) {
	let cfg;
	try {
		cfg = readConfig(stack);
	} catch (e) {
		return { error: `cannot read ${stack.PINGOO_CONFIG}: ${e.message}` };
	}
	if (!cfg)
		return { error: 'stack.env has no PINGOO_CONFIG' };
	const alg = (cfg.jwt_alg || 'HS256').toUpperCase();
	let raw;
	let source;
	if (cfg.jwt_key_file) {
		source = path.resolve(cfg.__dir, cfg.jwt_key_file);
		try {
			raw = fs.readFileSync(source);
		} catch (e) {
			return { error: `cannot read jwt_key_file ${source}: ${e.message}` };
		}
	} else if (cfg.jwt_key) {
		source = 'jwt_key';
		raw = Buffer.from(cfg.jwt_key, 'utf8');
	} else {
		return { error: `${cfg.__file} has neither jwt_key_file nor jwt_key` };
	}
	const base = { alg, issuer: cfg.jwt_issuer || 'pingoo', audience: cfg.jwt_audience || 'pingoo-api' };
	const candidates = keyCandidates(raw);
	if (!sample)
		return { ...base, key: candidates[0][1], how: `${source}, ${candidates[0][0]} (unverified)` };
	for (const [how, key] of candidates) {
		if (verifies(sample, key, alg))
			return { ...base, key, how: `${source}, ${how}` };
	}
	return { error: `no reading of ${source} (${candidates.map(([h]) => h).join(', ')}) verifies a token the server issued with ${alg}` };
}
