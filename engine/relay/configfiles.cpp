// SPDX-License-Identifier: MIT
#include "configfiles.h"

#include <QFile>
#include <QRandomGenerator>
#include <QFileInfo>

namespace outbox {

QString secretFileProblem(const QString &path, const QString &what)
{
    const QFileInfo info(path);
    if (!info.exists())
        return QStringLiteral("the %1 '%2' does not exist").arg(what, path);
    // As ssh does with a private key: a file that carries a secret is readable by its owner alone.
    if (info.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther))
        return QStringLiteral("refusing the %1 '%2': it holds a secret and other users can read it (chmod 600 '%2')")
            .arg(what, path);
    return {};
}

bool readSecretFile(const QString &path, const QString &what, QByteArray *content, QString *error)
{
    if (const QString problem = secretFileProblem(path, what); !problem.isEmpty()) {
        *error = problem;
        return false;
    }
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read the %1 '%2': %3").arg(what, path, file.errorString());
        return false;
    }
    *content = file.readAll();
    return true;
}

bool writeNewSigningSecret(const QString &path, QString *error)
{
    quint32 words[8];
    QRandomGenerator::system()->fillRange(words);
    const QByteArray key(reinterpret_cast<const char *>(words), sizeof words);
    QFile file(path);
    // Created for its owner alone before a byte of the secret is in it; never over a file that is there.
    if (!file.open(QIODevice::WriteOnly | QIODevice::NewOnly, QFileDevice::ReadOwner | QFileDevice::WriteOwner)) {
        *error = QStringLiteral("cannot create the signing secret file '%1': %2").arg(path, file.errorString());
        return false;
    }
    if (file.write("whsec_" + key.toBase64() + '\n') < 0 || !file.flush()) {
        *error = QStringLiteral("cannot write the signing secret file '%1': %2").arg(path, file.errorString());
        file.close();
        QFile::remove(path);
        return false;
    }
    return true;
}

bool isRelayerOwnedHeader(QByteArrayView name)
{
    // Framing and hop-by-hop headers (a second Content-Length or Transfer-Encoding is a request-smuggling shape
    // for any proxy between), the content type, and the event's identity and signature.
    static const char *const owned[] = {"content-length", "transfer-encoding", "host", "connection", "keep-alive", "te",
        "trailer", "upgrade", "content-type"};
    for (const char *o : owned) {
        if (name.compare(QByteArrayView(o), Qt::CaseInsensitive) == 0)
            return true;
    }
    for (const char *prefix : {"proxy-", "ce-", "webhook-"}) {
        const QByteArrayView p(prefix);
        if (name.size() >= p.size() && name.first(p.size()).compare(p, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

bool parseHeaderLine(const QByteArray &line, std::pair<QByteArray, QByteArray> *header)
{
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0)
        return false;
    *header = {line.left(colon).trimmed(), line.mid(colon + 1).trimmed()};
    return true;
}

bool readRoutesFile(const QString &path, QList<RelayRoute> *routes, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read the routes file '%1': %2").arg(path, file.errorString());
        return false;
    }
    const QString secretProblem = secretFileProblem(path, QStringLiteral("routes file"));
    int lineNumber = 0;
    RelayRoute *route = nullptr;
    auto bad = [&](const QString &why) {
        *error = QStringLiteral("%1:%2: %3").arg(path).arg(lineNumber).arg(why);
        return false;
    };
    for (const QByteArray &raw : file.readAll().split('\n')) {
        ++lineNumber;
        const QString line = QString::fromUtf8(raw).trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1Char('#')) || line.startsWith(QLatin1Char(';')))
            continue;
        if (line.startsWith(QLatin1Char('['))) {
            if (!line.endsWith(QLatin1Char(']')) || !line.startsWith(QLatin1String("[route ")))
                return bad(QStringLiteral("expected a section [route NAME]"));
            routes->append(RelayRoute{});
            route = &routes->last();
            route->name = line.mid(7, line.size() - 8).trimmed();
            continue;
        }
        const qsizetype eq = line.indexOf(QLatin1Char('='));
        if (eq <= 0)
            return bad(QStringLiteral("expected name = value"));
        if (!route)
            return bad(QStringLiteral("a setting before the first [route NAME]"));
        const QString key = line.left(eq).trimmed();
        const QString value = line.mid(eq + 1).trimmed();
        if (key == QLatin1String("types")) {
            for (const QString &t : value.split(QLatin1Char(','), Qt::SkipEmptyParts))
                route->types.append(t.trimmed());
        } else if (key == QLatin1String("target")) {
            route->targetUrl = QUrl(value, QUrl::StrictMode);
        } else if (key == QLatin1String("mode")) {
            if (!parseContentMode(value, &route->contentMode))
                return bad(QStringLiteral("unknown mode '%1': use binary, structured or batch").arg(value));
        } else if (key == QLatin1String("concurrency")) {
            bool ok = false;
            route->concurrency = value.toInt(&ok);
            if (!ok || route->concurrency < 1 || route->concurrency > 1000)
                return bad(QStringLiteral("the concurrency must be a whole number from 1 to 1000"));
        } else if (key == QLatin1String("header")) {
            if (!secretProblem.isEmpty())
                return bad(secretProblem + QStringLiteral(" (or use header-file)"));
            std::pair<QByteArray, QByteArray> header;
            if (!parseHeaderLine(value.toUtf8(), &header))
                return bad(QStringLiteral("expected a header as \"Name: value\""));
            route->headers.append(header);
        } else if (key == QLatin1String("header-file")) {
            if (!readHeaderFile(value, &route->headers, error))
                return false;
        } else if (key == QLatin1String("signing-secret-file")) {
            if (!readSecretFile(value, QStringLiteral("signing secret file"), &route->signingSecret, error))
                return false;
            route->signingSecret = route->signingSecret.trimmed();
        } else {
            return bad(QStringLiteral(
                "unknown setting '%1' (types, target, mode, concurrency, header, header-file, signing-secret-file)")
                           .arg(key));
        }
    }
    if (routes->isEmpty()) {
        *error = QStringLiteral("the routes file '%1' has no [route NAME] section").arg(path);
        return false;
    }
    return true;
}

bool readHeaderFile(const QString &path, QList<std::pair<QByteArray, QByteArray>> *headers, QString *error)
{
    QByteArray content;
    if (!readSecretFile(path, QStringLiteral("header file"), &content, error))
        return false;
    int lineNumber = 0;
    for (const QByteArray &raw : content.split('\n')) {
        ++lineNumber;
        const QByteArray line = raw.trimmed();
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        std::pair<QByteArray, QByteArray> header;
        if (!parseHeaderLine(line, &header)) {
            *error = QStringLiteral("%1:%2: expected a header as \"Name: value\"").arg(path).arg(lineNumber);
            return false;
        }
        headers->append(header);
    }
    return true;
}

} // namespace outbox
