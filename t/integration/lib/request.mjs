// request.mjs - the headers and body of a raw API request, for the clients that drive
// node:https themselves (the fault load, the soak) rather than through http.mjs.

// {headers, body}: a bearer token when given; a JSON body (json) or raw bytes (body) with
// their Content-Type and Content-Length.
export function requestParts({ token, json, body }) {
	const headers = {};
	if (token)
		headers.Authorization = `Bearer ${token}`;
	if (json !== undefined) {
		body = Buffer.from(JSON.stringify(json));
		headers['Content-Type'] = 'application/json';
	} else if (body !== undefined) {
		headers['Content-Type'] = 'application/octet-stream';
	}
	if (body !== undefined)
		headers['Content-Length'] = String(body.length);
	return { headers, body };
}
