// SPDX-License-Identifier: MIT
#include "relayersettings.h"

#include "cloudevents.h"
#include "configfiles.h"

#include <limits>

namespace outbox {

QStringList relayerSettingNames()
{
    return {QStringLiteral("target"), QStringLiteral("routes"), QStringLiteral("mode"), QStringLiteral("batch-size"),
        QStringLiteral("poll-interval"), QStringLiteral("max-retries"), QStringLiteral("max-backoff"),
        QStringLiteral("retry-backoff"), QStringLiteral("max-retry-backoff"), QStringLiteral("timeout"),
        QStringLiteral("concurrency"), QStringLiteral("max-batch-bytes"), QStringLiteral("lease"),
        QStringLiteral("ca-file"), QStringLiteral("client-cert"), QStringLiteral("client-key"),
        QStringLiteral("header"), QStringLiteral("header-file"), QStringLiteral("signing-secret-file")};
}

bool parseWholeNumberSetting(const QString &name, const QString &text, int min, int max, int *value, QString *problem)
{
    bool ok = false;
    const qlonglong v = text.trimmed().toLongLong(&ok);
    if (!ok || v < min || v > max) {
        *problem =
            QStringLiteral("invalid %1 '%2': expected a whole number from %3 to %4").arg(name, text).arg(min).arg(max);
        return false;
    }
    *value = int(v);
    return true;
}

namespace {

// Reads one setting at a time, keeping the first problem met.
class SettingReader
{
public:
    explicit SettingReader(const SettingLookup &lookup) : m_lookup(lookup) { }

    QStringList values(const QString &name) const { return m_lookup(name); }
    // The last value given (a later source overrides), or a null string.
    QString text(const QString &name) const
    {
        const QStringList v = m_lookup(name);
        return v.isEmpty() ? QString() : v.last();
    }
    bool number(const QString &name, int *value, int min, int max)
    {
        const QString given = text(name);
        if (given.isNull())
            return true;
        QString problem;
        return parseWholeNumberSetting(name, given, min, max, value, &problem) || fault(problem);
    }
    bool fault(const QString &problem)
    {
        if (m_problem.isEmpty())
            m_problem = problem;
        return false;
    }
    const QString &problem() const { return m_problem; }

private:
    const SettingLookup &m_lookup;
    QString m_problem;
};

bool readNumbers(SettingReader &s, RelayerConfig *c)
{
    constexpr int maxInt = std::numeric_limits<int>::max();
    int maxBatchBytes = int(qMin<qint64>(c->maxBatchBytes, maxInt));
    bool ok = s.number(QStringLiteral("batch-size"), &c->batchSize, 1, 100000)
        && s.number(QStringLiteral("poll-interval"), &c->pollIntervalMs, 1, maxInt);
    // A longest idle wait below the poll interval given is raised to it unless it is given too.
    c->maxIdleBackoffMs = qMax(c->maxIdleBackoffMs, c->pollIntervalMs);
    ok = ok && s.number(QStringLiteral("max-retries"), &c->maxRetries, 1, 1000000)
        && s.number(QStringLiteral("max-backoff"), &c->maxIdleBackoffMs, 1, maxInt)
        && s.number(QStringLiteral("retry-backoff"), &c->retryBackoffMs, 0, maxInt);
    c->maxRetryBackoffMs = qMax(c->maxRetryBackoffMs, c->retryBackoffMs);
    ok = ok && s.number(QStringLiteral("max-retry-backoff"), &c->maxRetryBackoffMs, 0, maxInt)
        && s.number(QStringLiteral("timeout"), &c->requestTimeoutMs, 1, maxInt)
        && s.number(QStringLiteral("concurrency"), &c->concurrency, 1, 1000)
        && s.number(QStringLiteral("max-batch-bytes"), &maxBatchBytes, 1024, maxInt)
        && s.number(QStringLiteral("lease"), &c->leaseDurationMs, 300, maxInt);
    c->maxBatchBytes = maxBatchBytes;
    return ok;
}

bool readTarget(SettingReader &s, RelayerConfig *c)
{
    const QString target = s.text(QStringLiteral("target")).trimmed();
    if (!target.isEmpty()) {
        c->targetUrl = QUrl(target, QUrl::StrictMode);
        if (!c->targetUrl.isValid() || c->targetUrl.host().isEmpty())
            return s.fault(QStringLiteral("malformed target URL '%1': expected e.g. http://127.0.0.1:8080/events")
                               .arg(QUrl(target).toDisplayString(QUrl::RemovePassword)));
    }
    if (const QString mode = s.text(QStringLiteral("mode")); !mode.isNull() && !parseContentMode(mode, &c->contentMode))
        return s.fault(QStringLiteral("unknown mode '%1': use binary, structured or batch").arg(mode.left(40)));
    return true;
}

// Headers, the signing secret, the client key's file rule: the settings that carry secrets.
bool readSecrets(SettingReader &s, RelayerConfig *c)
{
    QString error;
    for (const QString &line : s.values(QStringLiteral("header"))) {
        if (line.trimmed().isEmpty())
            continue;
        std::pair<QByteArray, QByteArray> header;
        if (!parseHeaderLine(line.trimmed().toUtf8(), &header))
            return s.fault(QStringLiteral("header: expected a header as \"Name: value\""));
        c->headers.append(header);
    }
    if (const QString file = s.text(QStringLiteral("header-file")).trimmed();
        !file.isEmpty() && !readHeaderFile(file, &c->headers, &error))
        return s.fault(error);
    if (const QString file = s.text(QStringLiteral("signing-secret-file")).trimmed(); !file.isEmpty()) {
        if (!readSecretFile(file, QStringLiteral("signing secret file"), &c->signingSecret, &error))
            return s.fault(error);
        c->signingSecret = c->signingSecret.trimmed();
        if (c->signingKey().isEmpty())
            return s.fault(QStringLiteral(
                "the signing secret file '%1' does not hold a Standard Webhooks secret (whsec_ and base64)")
                               .arg(file));
    }
    c->caCertificatesFile = s.text(QStringLiteral("ca-file")).trimmed();
    c->clientCertificateFile = s.text(QStringLiteral("client-cert")).trimmed();
    c->clientKeyFile = s.text(QStringLiteral("client-key")).trimmed();
    if (!c->clientKeyFile.isEmpty()) {
        QByteArray unused;
        if (!readSecretFile(c->clientKeyFile, QStringLiteral("client key"), &unused, &error))
            return s.fault(error);
    }
    return true;
}

bool readRoutes(SettingReader &s, RelayerConfig *c)
{
    const QString file = s.text(QStringLiteral("routes")).trimmed();
    if (file.isEmpty())
        return true;
    QString error;
    if (!readRoutesFile(file, &c->routes, &error))
        return s.fault(error);
    // The target (with the mode and concurrency) is the default route after those of the file.
    if (!s.text(QStringLiteral("target")).trimmed().isEmpty())
        c->routes.append(RelayRoute{
            QStringLiteral("default"), {QStringLiteral("*")}, c->targetUrl, c->contentMode, c->concurrency, {}, {}});
    return true;
}

} // namespace

bool relayerConfigFromSettings(const SettingLookup &settings, RelayerConfig *config, QString *error)
{
    SettingReader s(settings);
    RelayerConfig c = *config;
    if (readTarget(s, &c) && readNumbers(s, &c) && readSecrets(s, &c) && readRoutes(s, &c)) {
        if (const QString problem = c.problem(); !problem.isEmpty())
            s.fault(problem);
    }
    if (!s.problem().isEmpty()) {
        *error = s.problem();
        return false;
    }
    *config = c;
    return true;
}

} // namespace outbox
