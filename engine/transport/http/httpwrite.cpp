// SPDX-License-Identifier: MIT
#include "httpwrite.h"

#include "httpsender.h"

namespace outbox {

QByteArray requestHead(const RequestHeadOptions &options)
{
    const QUrl &t = options.target;
    const bool https = t.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0;
    QByteArray target = options.absoluteForm ? t.toEncoded(QUrl::RemoveUserInfo | QUrl::RemoveFragment)
                                             : t.path(QUrl::FullyEncoded).toLatin1();
    if (!options.absoluteForm) {
        if (target.isEmpty())
            target = "/";
        if (t.hasQuery())
            target += '?' + t.query(QUrl::FullyEncoded).toLatin1();
    }
    QByteArray head = "POST " + target + " HTTP/1.1\r\nHost: ";
    const QByteArray host = QUrl::toAce(t.host());
    head += t.host().contains(QLatin1Char(':')) ? '[' + t.host().toLatin1() + ']'
                                                : (host.isEmpty() ? t.host().toLatin1() : host);
    if (t.port() > 0 && t.port() != (https ? 443 : 80))
        head += ':' + QByteArray::number(t.port());
    head += "\r\nUser-Agent: outbox-relayer\r\n";
    bool authorization = false;
    for (const auto &h : options.headers) {
        head += h.first + ": " + h.second + "\r\n";
        authorization = authorization || h.first.compare("authorization", Qt::CaseInsensitive) == 0;
    }
    // user:password@ in the URL: sent with the first request (never a first try without it).
    if (!authorization && !t.userName().isEmpty())
        head += "Authorization: Basic "
            + (t.userName(QUrl::FullyDecoded) + QLatin1Char(':') + t.password(QUrl::FullyDecoded)).toUtf8().toBase64()
            + "\r\n";
    if (options.absoluteForm && !options.proxyUser.isEmpty())
        head += "Proxy-Authorization: Basic "
            + (options.proxyUser + QLatin1Char(':') + options.proxyPassword).toUtf8().toBase64() + "\r\n";
    return head;
}

QByteArray writeRequest(const QByteArray &head, const HttpMessage &message, const QByteArray &signingKey,
    const QByteArray &webhookId, qint64 timestamp)
{
    QByteArray request;
    request.reserve(head.size() + message.body.size() + 512);
    request += head;
    bool contentType = false;
    for (const auto &h : message.headers) {
        request += h.first + ": " + h.second + "\r\n";
        contentType = contentType || h.first.compare("content-type", Qt::CaseInsensitive) == 0;
    }
    if (!contentType && !message.body.isEmpty())
        request += "Content-Type: application/octet-stream\r\n";
    if (!signingKey.isEmpty())
        request += "webhook-id: " + webhookId + "\r\nwebhook-timestamp: " + QByteArray::number(timestamp)
            + "\r\nwebhook-signature: " + HttpSender::webhookSignature(signingKey, webhookId, timestamp, message.body)
            + "\r\n";
    request += "Content-Length: " + QByteArray::number(message.body.size()) + "\r\n\r\n";
    request += message.body;
    return request;
}

} // namespace outbox
