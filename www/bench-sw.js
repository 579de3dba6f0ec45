// A service worker for e2e/bench-client.mjs: it answers GET /bench-echo itself, so that the
// client's own cost per fetch can be measured without the network (a fetch that reaches a
// server takes milliseconds in headless Chromium on the test machines, too noisy for the
// 200 µs goal). Every other request goes to the network untouched.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  if (new URL(event.request.url).pathname === '/bench-echo') {
    event.respondWith(new Response('ok', { headers: { 'content-type': 'text/plain' } }));
  }
});
