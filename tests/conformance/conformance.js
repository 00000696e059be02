// SPDX-License-Identifier: MIT
// The other side of tests/tst_conformance.cpp, written with the CloudEvents JavaScript SDK.
//   node conformance.js receive [SECRET]
//                                    HTTP server on a free loopback port; prints "listening PORT", then one
//                                    JSON line per event the SDK reads from each request (or its error);
//                                    with a whsec_ SECRET, the npm standardwebhooks package verifies each
//                                    request's signature first (401 when it fails)
//   node conformance.js emit URL     sends SDK-made events to URL in binary and structured mode; prints
//                                    one JSON line per event sent with the attributes it had
//   node conformance.js mqtt-receive URL TOPIC
//                                    subscribes to TOPIC at the MQTT broker URL with the npm mqtt client
//                                    (MQTT 5, QoS 1); prints "subscribed", then one JSON line per message with
//                                    the event the SDK's MQTT binding reads from it (or its error)
//   node conformance.js kafka-receive BROKERS TOPIC
//                                    consumes TOPIC from its start with kafkajs (a group of its own); prints
//                                    "subscribed", then one JSON line per record: partition, key, headers and
//                                    the event the SDK's Kafka binding reads from it (or its error)
//   node conformance.js amqp-receive URL QUEUE
//                                    consumes QUEUE with amqplib; prints "subscribed", then one JSON line per
//                                    message: its headers and properties, and the event the SDK's HTTP binding
//                                    reads from them (the SDK has no AMQP binding; see amqpReceive)
//   node conformance.js nats-receive URL STREAM
//                                    reads the JetStream stream STREAM from its start with the npm nats client
//                                    (an ordered consumer); prints "subscribed", then one JSON line per message:
//                                    its subject, headers and body as stored, and the event the SDK reads from
//                                    it (binary: the ce- headers, percent-decoded as the NATS binding says;
//                                    structured: the JSON event format), or its error
'use strict';
const crypto = require('crypto');
const http = require('http');
const { CloudEvent, HTTP, Kafka, MQTT, MQTTMessageFactory } = require('cloudevents');
const { Webhook } = require('standardwebhooks');

function describe(event) {
  const out = {};
  for (const [k, v] of Object.entries(event)) {
    if (k === 'data_base64') continue;
    out[k] = (k === 'data' && Buffer.isBuffer(v)) ? { base64: v.toString('base64') } : v;
  }
  if (event.data_base64 !== undefined) out.data = { base64: event.data_base64 };
  return out;
}

function receive(secret) {
  const webhook = secret ? new Webhook(secret) : null;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let signature;
      if (webhook) {
        try {
          if (Buffer.from(body.toString('utf8'), 'utf8').equals(body)) {
            webhook.verify(body, req.headers, { jsonParse: false });
            signature = 'verified';
          } else {
            // The package decodes a Buffer as UTF-8 text before signing, so it cannot check a body that is not
            // UTF-8 (binary mode with binary data): Node's own HMAC checks the same formula on the raw bytes.
            const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
            const mac = crypto.createHmac('sha256', key)
              .update(`${req.headers['webhook-id']}.${req.headers['webhook-timestamp']}.`).update(body).digest('base64');
            if (!String(req.headers['webhook-signature'] || '').split(' ').includes(`v1,${mac}`)) throw new Error('No matching signature found (raw bytes)');
            signature = 'verified';
          }
        } catch (err) {
          process.stdout.write(JSON.stringify({ ok: false, error: 'signature: ' + String(err && err.message || err) }) + '\n');
          res.writeHead(401).end(String(err));
          return;
        }
      }
      const contentType = String(req.headers['content-type'] || '');
      // Text for JSON and structured bodies, bytes otherwise, as the SDK expects.
      const textual = /json|^text\//.test(contentType);
      try {
        let events = HTTP.toEvent({ headers: req.headers, body: textual ? body.toString('utf8') : body });
        if (!Array.isArray(events)) events = [events];
        for (const e of events) {
          e.validate();
          process.stdout.write(JSON.stringify({ ok: true, mode: HTTP.isEvent({ headers: req.headers, body }) ? modeOf(contentType) : '?', signature, event: describe(e) }) + '\n');
        }
        res.writeHead(202).end();
      } catch (err) {
        process.stdout.write(JSON.stringify({ ok: false, error: String(err && err.message || err) }) + '\n');
        res.writeHead(400).end(String(err));
      }
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
}

function modeOf(contentType) {
  if (contentType.startsWith('application/cloudevents-batch')) return 'batch';
  if (contentType.startsWith('application/cloudevents')) return 'structured';
  return 'binary';
}

function post(url, message) {
  return new Promise((resolve, reject) => {
    const body = Buffer.isBuffer(message.body) ? message.body : Buffer.from(String(message.body));
    const req = http.request(url, { method: 'POST', headers: { ...message.headers, 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function emit(url) {
  const events = [
    new CloudEvent({ id: 'sdk-json', type: 'com.example.sdk', source: '/sdk', subject: 'orders/9',
                     time: '2026-11-26T21:25:15.123Z', datacontenttype: 'application/json',
                     data: { order: 9, items: ['a', 'b'] }, traceparent: '00-abc-def-01' }),
    new CloudEvent({ id: 'sdk-text', type: 'com.example.sdk', source: '/sdk', datacontenttype: 'text/plain', data: 'hello, "world"' }),
    new CloudEvent({ id: 'sdk-bytes', type: 'com.example.sdk', source: '/sdk', datacontenttype: 'application/octet-stream',
                     data: Buffer.from([0, 1, 254, 255]) }),
  ];
  for (const [mode, encode] of [['binary', HTTP.binary], ['structured', HTTP.structured]]) {
    for (const e of events) {
      const status = await post(url, encode(e));
      process.stdout.write(JSON.stringify({ mode, status, event: describe(e) }) + '\n');
    }
  }
}

function mqttReceive(url, topic) {
  const mqtt = require('mqtt');
  const client = mqtt.connect(url, { protocolVersion: 5, clean: true, reconnectPeriod: 0 });
  client.on('error', (err) => { console.error(String(err)); process.exit(1); });
  client.on('connect', () => {
    client.subscribe(topic, { qos: 1 }, (err) => {
      if (err) { console.error(String(err)); process.exit(1); }
      process.stdout.write('subscribed\n');
    });
  });
  client.on('message', (_topic, payload, packet) => {
    const props = packet.properties || {};
    const contentType = props.contentType;
    // Text for JSON and structured payloads, bytes otherwise, as for HTTP.
    const textual = /json|^text\//.test(contentType || '');
    const message = MQTTMessageFactory(contentType, props.userProperties || {}, textual ? payload.toString('utf8') : payload);
    try {
      const e = MQTT.toEvent(message);
      e.validate();
      process.stdout.write(JSON.stringify({ ok: true, qos: packet.qos, contentType, mode: MQTT.isEvent(message) ? modeOf(contentType || '') : '?', event: describe(e) }) + '\n');
    } catch (err) {
      process.stdout.write(JSON.stringify({ ok: false, error: String(err && err.message || err) }) + '\n');
    }
  });
}

async function natsReceive(url, stream) {
  const { connect } = require('nats');
  const nc = await connect({ servers: url, reconnect: false });
  const consumer = await nc.jetstream().consumers.get(stream);
  const messages = await consumer.consume();
  process.stdout.write('subscribed\n');
  for await (const m of messages) {
    const headers = {};
    for (const [k, v] of m.headers || []) headers[k.toLowerCase()] = v.join(',');
    const contentType = headers['content-type'] || '';
    const structured = /^application\/cloudevents/i.test(contentType);
    // The binding names the content type ce-datacontenttype in binary mode; HTTP's binding, Content-Type. A
    // reader percent-decodes each value (section 3.1.3.2; decodeURIComponent rejects invalid UTF-8 as it must):
    // the SDK's HTTP binding does not, so it is done here, before the SDK reads the headers.
    const http = {};
    try {
      for (const [k, v] of Object.entries(headers)) {
        if (structured ? k === 'content-type' : k.startsWith('ce-') && k !== 'ce-datacontenttype')
          http[k] = structured ? v : decodeURIComponent(v);
      }
      if (!structured && headers['ce-datacontenttype'])
        http['content-type'] = decodeURIComponent(headers['ce-datacontenttype']);
    } catch (err) {
      process.stdout.write(JSON.stringify({ seq: m.seq, headers, ok: false, error: String(err) }) + '\n');
      continue;
    }
    const textual = structured || /json|^text\//.test(http['content-type'] || '');
    const body = textual ? Buffer.from(m.data).toString('utf8') : Buffer.from(m.data);
    const line = { seq: m.seq, subject: m.subject, headers, body: Buffer.from(m.data).toString('utf8') };
    try {
      const e = HTTP.toEvent({ headers: http, body });
      e.validate();
      Object.assign(line, { ok: true, mode: structured ? 'structured' : 'binary', event: describe(e) });
    } catch (err) {
      Object.assign(line, { ok: false, error: String(err && err.message || err) });
    }
    process.stdout.write(JSON.stringify(line) + '\n');
  }
}

async function kafkaReceive(brokers, topic) {
  const { Kafka: KafkaJS, logLevel } = require('kafkajs');
  const kafka = new KafkaJS({ clientId: 'conformance', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `conformance-${process.pid}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  process.stdout.write('subscribed\n');
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const headers = {};
      for (const [k, v] of Object.entries(message.headers || {})) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
      const contentType = headers['content-type'] || '';
      const textual = /json|^text\//.test(contentType);
      const key = message.key ? message.key.toString('utf8') : null;
      const line = { partition, key, headers };
      try {
        const e = Kafka.toEvent({ headers, key, value: textual ? message.value.toString('utf8') : message.value });
        e.validate();
        Object.assign(line, { ok: true, mode: /^application\/cloudevents/.test(contentType) ? 'structured' : 'binary', event: describe(e) });
      } catch (err) {
        Object.assign(line, { ok: false, error: String(err && err.message || err) });
      }
      process.stdout.write(JSON.stringify(line) + '\n');
    },
  });
}

async function amqpReceive(url, queue) {
  const amqp = require('amqplib');
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  await channel.checkQueue(queue);
  process.stdout.write('subscribed\n');
  await channel.consume(queue, (m) => {
    const props = m.properties;
    const headers = {};
    for (const [k, v] of Object.entries(props.headers || {})) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
    const contentType = props.contentType || '';
    const structured = /^application\/cloudevents/.test(contentType);
    // The JavaScript SDK has no AMQP binding: the AMQP binding's cloudEvents_ properties are given to its HTTP
    // binding as the ce- headers they stand for, and the content_type property as Content-Type.
    const http = { 'content-type': contentType };
    if (!structured) for (const [k, v] of Object.entries(headers)) if (k.startsWith('cloudEvents_')) http['ce-' + k.slice(12)] = v;
    const textual = /json|^text\//.test(contentType);
    const line = { headers, contentType, messageId: props.messageId, deliveryMode: props.deliveryMode };
    try {
      const e = HTTP.toEvent({ headers: http, body: textual ? m.content.toString('utf8') : m.content });
      e.validate();
      Object.assign(line, { ok: true, mode: structured ? 'structured' : 'binary', event: describe(e) });
    } catch (err) {
      Object.assign(line, { ok: false, error: String(err && err.message || err) });
    }
    process.stdout.write(JSON.stringify(line) + '\n');
  }, { noAck: true });
}

const [command, arg, arg2] = process.argv.slice(2);
if (command === 'receive') receive(arg);
else if (command === 'mqtt-receive') mqttReceive(arg, arg2);
else if (command === 'amqp-receive') amqpReceive(arg, arg2).catch((e) => { console.error(String(e)); process.exit(1); });
else if (command === 'kafka-receive') kafkaReceive(arg, arg2).catch((e) => { console.error(String(e)); process.exit(1); });
else if (command === 'nats-receive') natsReceive(arg, arg2).catch((e) => { console.error(String(e)); process.exit(1); });
else if (command === 'emit') emit(arg).catch((e) => { console.error(String(e)); process.exit(1); });
else { console.error('usage: conformance.js receive | emit URL | mqtt-receive URL TOPIC | nats-receive URL STREAM | kafka-receive BROKERS TOPIC | amqp-receive URL QUEUE'); process.exit(2); }
