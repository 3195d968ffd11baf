// A minimal MCP server on the official TypeScript SDK, the reference of bench/bench_mcp_typescript.py.
//
// Streamable HTTP, stateless, SSE responses (the SDK's default), at POST /mcp on 127.0.0.1, one tool:
// get_customer reads one customer from the same SQLite file as our server (node:sqlite, Node >= 22)
// and answers the same structured content and compact JSON text. Stateless as the SDK's own example
// does it: a new McpServer and transport per request (a stateless transport cannot be reused).
//
//   node server.mjs --port 8123 --database path/to/salesmcp.sqlite
import http from "node:http";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import * as z from "zod";

const { values: options } = parseArgs({
  options: { port: { type: "string" }, database: { type: "string" }, host: { type: "string", default: "127.0.0.1" } },
});
if (!options.port || !options.database) {
  console.error("usage: node server.mjs --port N --database FILE.sqlite");
  process.exit(2);
}

const db = new DatabaseSync(options.database, { readOnly: true });
const byCustid = db.prepare(
  "SELECT custid, name, email, phone, city, country, status, created_at, updated_at FROM customers WHERE custid = ?",
);

// SQLite holds naive UTC timestamps ("2026-01-31 12:00:00.5"); ours answer them as ISO 8601 in UTC.
const iso = (text) => `${String(text).replace(" ", "T")}Z`;

const customerShape = {
  custid: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  city: z.string().nullable(),
  country: z.string().nullable(),
  status: z.enum(["active", "disabled"]),
  created_at: z.string(),
  updated_at: z.string(),
};

function getCustomer({ cust_id }) {
  const row = byCustid.get(cust_id.trim());
  if (row === undefined) {
    return { isError: true, content: [{ type: "text", text: `no customer with custid ${cust_id}` }] };
  }
  const customer = { ...row, created_at: iso(row.created_at), updated_at: iso(row.updated_at) };
  return { content: [{ type: "text", text: JSON.stringify(customer) }], structuredContent: customer };
}

function buildServer() {
  const server = new McpServer({ name: "typescript-reference", version: "1.0.0" });
  server.registerTool(
    "get_customer",
    {
      description: 'One customer by custid (e.g. "011"), with status and contacts.',
      inputSchema: { cust_id: z.string().describe('Customer id, e.g. "012"') },
      outputSchema: customerShape,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args) => getCustomer(args),
  );
  return server;
}

const httpServer = http.createServer(async (req, res) => {
  const path = (req.url ?? "").split("?")[0];
  if (path === "/health" && req.method === "GET") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    return;
  }
  if (path !== "/mcp") {
    res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
    return;
  }
  if (req.method !== "POST") {
    res.writeHead(405, { allow: "POST", "content-type": "application/json" }).end('{"error":"method not allowed"}');
    return;
  }
  try {
    const server = buildServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  } catch (error) {
    console.error(error);
    if (!res.headersSent) {
      res.writeHead(500, { "content-type": "application/json" }).end('{"error":"internal error"}');
    }
  }
});

httpServer.keepAliveTimeout = 60_000;
httpServer.listen(Number(options.port), options.host, () => {
  console.log(`typescript reference MCP server on http://${options.host}:${options.port}/mcp (Node ${process.version})`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => httpServer.close(() => process.exit(0)));
}
