// SPDX-License-Identifier: MIT
#include "relayerconfig.h"

#include "configfiles.h"
#include "httpsender.h"
#include "transportplugins.h"

#include <QFile>
#include <QFileInfo>
#include <QSslCertificate>
#include <QSslKey>

#include <cmath>

namespace outbox {

// The configuration of one route's lane: the relayer's, with the route's target, mode, concurrency,
// headers (added to the relayer's own) and signing secret.
RelayerConfig routeConfig(const RelayerConfig &base, const RelayRoute &route)
{
    RelayerConfig c = base;
    c.routes.clear();
    c.targetUrl = route.targetUrl;
    c.contentMode = route.contentMode;
    c.concurrency = route.concurrency;
    c.headers += route.headers;
    if (!route.signingSecret.isEmpty())
        c.signingSecret = route.signingSecret;
    return c;
}

namespace {
// The routes' part of RelayerConfig::problem(): names, types, reachability of every route, a default route.
QString routesProblem(const RelayerConfig &config)
{
    if (config.customSender)
        return QStringLiteral("routes need the HTTP sender, not a custom one");
    QStringList earlier;
    QSet<QString> names;
    for (const RelayRoute &r : config.routes) {
        const QString name = r.name.isEmpty() ? QStringLiteral("(unnamed)") : r.name;
        if (r.name.isEmpty() || names.contains(r.name))
            return QStringLiteral("every route needs a name of its own ('%1')").arg(name);
        if (std::any_of(r.name.cbegin(), r.name.cend(), [](QChar c) {
                return !(c.isLetterOrNumber() && c.unicode() < 128) && c != QLatin1Char('-') && c != QLatin1Char('_')
                    && c != QLatin1Char('.');
            }))
            return QStringLiteral("the route name '%1' may hold only letters, digits, '-', '_' and '.'")
                .arg(r.name.simplified().left(40));
        names.insert(r.name);
        if (r.types.isEmpty())
            return QStringLiteral("route %1 has no types").arg(name);
        if (earlier.contains(QStringLiteral("*")))
            return QStringLiteral("route %1 is never used: an earlier route takes every type").arg(name);
        if (const QString p = routeConfig(config, r).problem(); !p.isEmpty())
            return QStringLiteral("route %1: %2").arg(name, p);
        earlier += r.types;
    }
    if (!earlier.contains(QStringLiteral("*")))
        return QStringLiteral("no route takes every type: add a default route (types = *) so no event is left behind");
    return {};
}
} // namespace

QString RelayerConfig::problem() const
{
    if (!routes.isEmpty())
        return routesProblem(*this);
    if (!customSender) {
        if (!targetUrl.isValid() || targetUrl.host().isEmpty())
            return QStringLiteral("the target URL '%1' is not a valid URL")
                .arg(targetUrl.toDisplayString(QUrl::RemovePassword));
        // http(s) is built in; any other scheme needs its transport plug-in (mqtt://, ...).
        if (!detail::isBuiltInScheme(targetUrl.scheme())) {
            if (const QString p = detail::pluginTargetProblem(*this); !p.isEmpty())
                return p;
        }
    }
    if (pollIntervalMs <= 0)
        return QStringLiteral("the poll interval must be positive");
    if (batchSize <= 0)
        return QStringLiteral("the batch size must be positive");
    if (maxRetries <= 0)
        return QStringLiteral("the maximum number of retries must be positive");
    if (maxIdleBackoffMs < pollIntervalMs)
        return QStringLiteral("the maximum idle backoff must not be shorter than the poll interval");
    if (requestTimeoutMs <= 0)
        return QStringLiteral("the request timeout must be positive");
    if (concurrency <= 0)
        return QStringLiteral("the concurrency must be positive");
    if (leaseDurationMs <= 0)
        return QStringLiteral("the lease duration must be positive");
    if (retryBackoffMs < 0 || maxRetryBackoffMs < retryBackoffMs)
        return QStringLiteral("the retry backoff must be between 0 and its maximum");
    if (!caCertificatesFile.isEmpty() && QSslCertificate::fromPath(caCertificatesFile, QSsl::Pem).isEmpty())
        return QStringLiteral("no PEM certificate could be read from the CA file '%1'").arg(caCertificatesFile);
    if (clientCertificateFile.isEmpty() != clientKeyFile.isEmpty())
        return QStringLiteral("a client certificate needs its key, and a key its certificate");
    if (!clientCertificateFile.isEmpty()) {
        if (QSslCertificate::fromPath(clientCertificateFile, QSsl::Pem).isEmpty())
            return QStringLiteral("no PEM certificate could be read from the client certificate file '%1'")
                .arg(clientCertificateFile);
        if (const QString p = secretFileProblem(clientKeyFile, QStringLiteral("client key")); !p.isEmpty())
            return p;
        if (HttpSenderOptions::readPrivateKey(clientKeyFile).isNull())
            return QStringLiteral("no unencrypted PEM private key (RSA or EC) could be read from '%1'")
                .arg(clientKeyFile);
    }
    for (const auto &h : headers) {
        if (h.first.isEmpty() || std::any_of(h.first.cbegin(), h.first.cend(), [](char c) {
                return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                    && !QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
            }))
            return QStringLiteral("'%1' is not a valid header name").arg(QString::fromLatin1(h.first).simplified());
        if (isRelayerOwnedHeader(h.first))
            return QStringLiteral("the header '%1' is the relayer's own (it frames the request or names the event); "
                                  "it cannot be set")
                .arg(QString::fromLatin1(h.first));
        if (std::any_of(h.second.cbegin(), h.second.cend(),
                [](char c) { return (uchar(c) < 32 && c != '\t') || uchar(c) == 127; }))
            return QStringLiteral("the value of header '%1' holds a control character (the value itself is not shown)")
                .arg(QString::fromLatin1(h.first));
    }
    if (!signingSecret.isEmpty() && signingKey().isEmpty())
        return QStringLiteral("the signing secret is not a Standard Webhooks secret ('whsec_' and base64)");
    if (maxBatchBytes < 1024)
        return QStringLiteral("the batch byte cap must be at least 1024 bytes");
    return {};
}

QByteArray RelayerConfig::signingKey() const
{
    QByteArray secret = signingSecret.trimmed();
    if (secret.startsWith("whsec_"))
        secret = secret.mid(6);
    const auto decoded = QByteArray::fromBase64Encoding(secret, QByteArray::AbortOnBase64DecodingErrors);
    return decoded ? *decoded : QByteArray();
}

qint64 RelayerConfig::effectiveLeaseMs() const
{
    // The HTTP sender works beside the relayer's thread, which renews the leases while the requests run. A
    // custom sender blocks that thread for the whole batch, so its lease must cover the batch.
    if (!customSender)
        return leaseDurationMs;
    const qint64 rounds = contentMode == ContentMode::Batch ? 1 : (batchSize + concurrency - 1) / qMax(1, concurrency);
    return qMax<qint64>(leaseDurationMs, rounds * qint64(requestTimeoutMs) + 1000);
}

qint64 RelayerConfig::renewalIntervalMs() const
{
    return qMax<qint64>(100, effectiveLeaseMs() / 3);
}

// ---------------------------------------------------------------------------------------------------------
// RelayWorker

} // namespace outbox
