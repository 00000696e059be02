// SPDX-License-Identifier: MIT
#pragma once

// Private: the bytes of the requests the HTTP client writes, as pure functions beside the answer parser
// (httpparse.h), so that they can be tested without a socket: what a request carries is decided here, and the
// network code only writes it.

#include "cloudevents.h"

#include <QByteArray>
#include <QList>
#include <QUrl>

#include <utility>

namespace outbox {

struct RequestHeadOptions
{
    QUrl target; ///< where the requests go (user:password@ in it becomes Basic authorization)
    bool absoluteForm = false; ///< through an HTTP proxy: the request line names the whole URL
    QList<std::pair<QByteArray, QByteArray>> headers; ///< the operator's headers, on every request
    QString proxyUser; ///< absoluteForm: Basic credentials for the proxy (empty: none)
    QString proxyPassword;
};

// The request line and the headers every request to the target shares: POST, Host (the ACE form; an IPv6
// address in brackets; the port unless the scheme's default), User-Agent, the operator's headers, Basic
// authorization from the URL unless the headers carry their own, and the proxy's.
QByteArray requestHead(const RequestHeadOptions &options);

// One whole request: `head`, the message's headers (Content-Type application/octet-stream when a body has
// none), the Standard Webhooks headers when `signingKey` is set (webhook-id, -timestamp, -signature of the
// body), Content-Length, and the body.
QByteArray writeRequest(const QByteArray &head, const HttpMessage &message, const QByteArray &signingKey = {},
    const QByteArray &webhookId = {}, qint64 timestamp = 0);

} // namespace outbox
