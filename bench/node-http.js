// The stand-in for the seeds' stack without a framework: Node's own http module answering
// GET /add/{a}/{b} with {"result": a+b}, as bench/adderservice.sh compares it.
//   PORT=18082 node bench/node-http.js
const http = require('http');
http.createServer((req, res) => {
  const parts = req.url.split('/');
  if (req.method === 'GET' && parts.length === 4 && parts[1] === 'add') {
    const body = JSON.stringify({ result: Number(parts[2]) + Number(parts[3]) });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  } else {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end('{"error":"not found"}');
  }
}).listen(Number(process.env.PORT), '127.0.0.1');
