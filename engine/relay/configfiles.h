// SPDX-License-Identifier: MIT
#pragma once

// Private to the engine and its tools: the files a relayer's settings come from (secret files, header files,
// routes files) and the rules for the headers they give. Not installed.

#include "relayerconfig.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

#include <utility>

namespace outbox {

// The configuration of one route's lane: the relayer's, with the route's target, mode, concurrency,
// headers (added to the relayer's own) and signing secret.
RelayerConfig routeConfig(const RelayerConfig &base, const RelayRoute &route);

// The one rule for a file that carries a secret (a header file, a signing secret, a private key, a config or
// routes file holding a header or a password): it must exist and be readable by its owner alone, as ssh asks
// of a private key. Empty when it is; else why not, in one line with the chmod 600 hint.
QString secretFileProblem(const QString &path, const QString &what);
// Reads a file holding a secret, refused by secretFileProblem's rule. On failure: false, and why in one line.
bool readSecretFile(const QString &path, const QString &what, QByteArray *content, QString *error);
// Writes a new Standard Webhooks secret ("whsec_" and 32 random bytes in base64) to a new file readable by its
// owner alone (an existing file is never overwritten). On failure: false, and why in one line.
bool writeNewSigningSecret(const QString &path, QString *error);
// "Name: value" lines of a header file (blank lines and # comments skipped) into headers. The error names
// the file and line, never a value (values may be secrets).
bool readHeaderFile(const QString &path, QList<std::pair<QByteArray, QByteArray>> *headers, QString *error);
// Routes from a file of sections, first match wins:
//   [route orders]
//   types = com.example.order.*, com.example.payment.created
//   target = https://orders.internal/events
//   mode = batch                     (binary, structured or batch; default binary)
//   concurrency = 4                  (default 6)
//   header = X-Tenant: shop          (repeatable; only in a file other users cannot read)
//   header-file = /etc/outbox/orders.headers
//   signing-secret-file = /etc/outbox/orders.secret
// '#' and ';' start comment lines. On failure: false, and why in one line (never a header value).
bool readRoutesFile(const QString &path, QList<RelayRoute> *routes, QString *error);
// Headers the relayer writes itself and a user may not give: framing and hop-by-hop headers (Content-Length,
// Transfer-Encoding, Host, Connection, Keep-Alive, TE, Trailer, Upgrade, Proxy-*), Content-Type, ce-* and
// webhook-*. RelayerConfig::problem() refuses them, naming the header (never its value).
bool isRelayerOwnedHeader(QByteArrayView name);
// One "Name: value" header; false when there is no colon.
bool parseHeaderLine(const QByteArray &line, std::pair<QByteArray, QByteArray> *header);

} // namespace outbox
