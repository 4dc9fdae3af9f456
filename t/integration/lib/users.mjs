// users.mjs - throwaway users made through the admin command, so tests never share state.
//
//   const users = userFactory(stack);
//   const u = users.create();          // {username, password}, e.g. t_3f9a0c71d2e4
//   ...
//   users.cleanup();                   // deletes every user it made that still exists
//
// The password goes to `pingoo-admin user add` on standard input, never in argv.

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { bailOut } from './tap.mjs';

function admin(stack, args, input) {
	if (!stack.PINGOO_ADMIN)
		throw new Error('stack.env has no PINGOO_ADMIN');
	// The admin's file names the migration account, which alone may change users; a stack
	// without one has the workers' file.
	const conf = stack.PINGOO_ADMIN_CONFIG || stack.PINGOO_CONFIG;
	const argv = conf ? ['-c', conf, ...args] : args;
	try {
		return execFileSync(stack.PINGOO_ADMIN, argv, {
			input: input ?? '',
			encoding: 'utf8',
			timeout: 30000,
			stdio: ['pipe', 'pipe', 'pipe'],
			env: { ...process.env, PINGOO_CONFIG: conf ?? process.env.PINGOO_CONFIG ?? '' },
		});
	} catch (e) {
		const stderr = e.stderr ? String(e.stderr).trim() : '';
		throw new Error(`pingoo-admin ${args.join(' ')}: ${stderr || e.message}`);
	}
}

export function randomName(prefix = 't_') {
	return prefix + crypto.randomBytes(6).toString('hex');
}

export function randomPassword() {
	return crypto.randomBytes(18).toString('base64url');
}

export function addUser(stack, username = randomName(), password = randomPassword()) {
	admin(stack, ['user', 'add', username], password + '\n');
	return { username, password };
}

// `pingoo-admin user passwd`: a new password, on standard input.
export function setPassword(stack, username, password) {
	admin(stack, ['user', 'passwd', username], password + '\n');
}

export function deleteUser(stack, username) {
	admin(stack, ['user', 'del', username]);
}

export function userFactory(stack) {
	const made = new Set();
	return {
		create(username, password) {
			const u = addUser(stack, username, password);
			made.add(u.username);
			return u;
		},
		delete(username) {
			deleteUser(stack, username);
			made.delete(username);
		},
		passwd(username, password) {
			setPassword(stack, username, password);
		},
		// Best effort: a user already gone is not an error here.
		cleanup() {
			const errors = [];
			for (const name of made) {
				try {
					deleteUser(stack, name);
				} catch (e) {
					errors.push(e.message);
				}
			}
			made.clear();
			return errors;
		},
	};
}

// n users made by make() (async: a throwaway user with what the file needs, e.g. its token),
// or the whole file bails out: without them no case can run.
export async function usersOrBail(users, make, n) {
	const out = [];
	try {
		for (let i = 0; i < n; i++)
			out.push(await make());
	} catch (e) {
		users.cleanup();
		bailOut(`cannot make throwaway users: ${e.message}`);
	}
	return out;
}
