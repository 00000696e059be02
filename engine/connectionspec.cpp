// SPDX-License-Identifier: MIT
#include "connectionspec.h"

#include <QDir>
#include <QSqlDatabase>
#include <QUrl>
#include <QUrlQuery>

namespace outbox {

ConnectionSpec ConnectionSpec::sqlite(const QString &path)
{
    ConnectionSpec spec;
    spec.backend = Backend::Sqlite;
    spec.database = path;
    return spec;
}

Result<ConnectionSpec> ConnectionSpec::fromUrl(const QString &url)
{
    const QString text = url.trimmed();
    if (text.isEmpty())
        return Error(Error::InvalidArgument, QStringLiteral("empty database URL"));

    const qsizetype colon = text.indexOf(QLatin1Char(':'));
    // A bare path (no scheme) names a SQLite file.
    if (colon < 0 || text.startsWith(QLatin1Char('/')) || text.startsWith(QLatin1Char('.')))
        return sqlite(text);

    const QString scheme = text.left(colon).toLower();
    if (scheme == QLatin1String("sqlite") || scheme == QLatin1String("file")) {
        QString rest = text.mid(colon + 1);
        if (rest.startsWith(QLatin1String("//"))) {
            rest = rest.mid(2);
            // sqlite:///abs/path: an empty authority, then an absolute path
            if (!rest.startsWith(QLatin1Char('/')))
                return Error(Error::InvalidArgument,
                    QStringLiteral(
                        "malformed SQLite URL '%1': use sqlite:///absolute/path.db or sqlite:relative/path.db")
                        .arg(text));
        }
        rest = QUrl::fromPercentEncoding(rest.toUtf8());
        if (rest.isEmpty() || rest == QLatin1String("/"))
            return Error(Error::InvalidArgument, QStringLiteral("malformed SQLite URL '%1': no file path").arg(text));
        return sqlite(rest);
    }
    if (scheme == QLatin1String("postgresql") || scheme == QLatin1String("postgres")) {
        const QUrl parsed(text, QUrl::StrictMode);
        if (!parsed.isValid() || parsed.host().isEmpty())
            return Error(Error::InvalidArgument,
                QStringLiteral("malformed PostgreSQL URL: use postgresql://user:password@host:port/database"));
        ConnectionSpec spec;
        spec.backend = Backend::Postgresql;
        spec.host = parsed.host();
        spec.port = parsed.port(5432);
        spec.user = parsed.userName();
        spec.password = parsed.password();
        spec.database = parsed.path().mid(1);
        if (spec.database.isEmpty())
            return Error(Error::InvalidArgument, QStringLiteral("malformed PostgreSQL URL: no database name"));
        // libpq's connection parameters in the query (?sslmode=require&connect_timeout=10) are honoured, never
        // dropped: a user who asks for TLS must get it. Unknown ones are refused.
        static const QStringList known = {QStringLiteral("sslmode"), QStringLiteral("sslrootcert"),
            QStringLiteral("sslcert"), QStringLiteral("sslkey"), QStringLiteral("connect_timeout"),
            QStringLiteral("application_name"), QStringLiteral("options"), QStringLiteral("target_session_attrs"),
            QStringLiteral("keepalives"), QStringLiteral("keepalives_idle")};
        QStringList options;
        bool timeout = false;
        for (const auto &[key, value] : QUrlQuery(parsed).queryItems(QUrl::FullyDecoded)) {
            if (!known.contains(key))
                return Error(Error::InvalidArgument,
                    QStringLiteral("unknown PostgreSQL URL parameter '%1': use %2")
                        .arg(key.left(40), known.join(QStringLiteral(", "))));
            if (value.contains(QLatin1Char(';')))
                return Error(Error::InvalidArgument,
                    QStringLiteral("the PostgreSQL URL parameter '%1' must not contain ';'").arg(key));
            QString quoted = value;
            quoted.replace(QLatin1Char('\\'), QStringLiteral("\\\\")).replace(QLatin1Char('\''), QStringLiteral("\\'"));
            options << QStringLiteral("%1='%2'").arg(key, quoted);
            timeout = timeout || key == QLatin1String("connect_timeout");
        }
        if (!timeout)
            options.prepend(QStringLiteral("connect_timeout=5"));
        spec.options = options.join(QLatin1Char(';'));
        return spec;
    }
    return Error(Error::InvalidArgument,
        QStringLiteral("unknown database URL scheme '%1': use sqlite: or postgresql:").arg(scheme));
}

ConnectionSpec ConnectionSpec::fromDatabase(const QSqlDatabase &db)
{
    ConnectionSpec spec;
    spec.backend = db.driverName() == QLatin1String("QPSQL") ? Backend::Postgresql : Backend::Sqlite;
    spec.database = db.databaseName();
    spec.host = db.hostName();
    spec.port = db.port();
    spec.user = db.userName();
    spec.password = db.password();
    spec.options = db.connectOptions();
    return spec;
}

QString ConnectionSpec::driverName() const
{
    return backend == Backend::Postgresql ? QStringLiteral("QPSQL") : QStringLiteral("QSQLITE");
}

// A PostgreSQL URL with the given text in the password's place (empty: no password).
static QString postgresUrl(const ConnectionSpec &spec, const QString &password)
{
    QUrl url;
    url.setScheme(QStringLiteral("postgresql"));
    url.setHost(spec.host);
    if (spec.port > 0)
        url.setPort(spec.port);
    url.setUserName(spec.user);
    if (!password.isEmpty())
        url.setPassword(password);
    url.setPath(QLatin1Char('/') + spec.database);
    // The libpq parameters given in the URL (connect_timeout=5 is our default and not shown).
    QUrlQuery query;
    for (const QString &option : spec.options.split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
        const qsizetype eq = option.indexOf(QLatin1Char('='));
        QString value = option.mid(eq + 1);
        if (value.startsWith(QLatin1Char('\'')) && value.endsWith(QLatin1Char('\'')) && value.size() >= 2)
            value = value.mid(1, value.size() - 2)
                        .replace(QStringLiteral("\\'"), QStringLiteral("'"))
                        .replace(QStringLiteral("\\\\"), QStringLiteral("\\"));
        if (option != QLatin1String("connect_timeout=5"))
            query.addQueryItem(option.left(eq), QString::fromUtf8(QUrl::toPercentEncoding(value)));
    }
    if (!query.isEmpty())
        url.setQuery(query);
    return url.toString(query.isEmpty() ? QUrl::PrettyDecoded : QUrl::FullyEncoded);
}

QString ConnectionSpec::toUrl() const
{
    return backend == Backend::Sqlite ? displayUrl() : postgresUrl(*this, password);
}

QString ConnectionSpec::displayUrl() const
{
    if (backend == Backend::Sqlite) {
        const QString abs = QDir::isAbsolutePath(database) ? database : QDir::current().absoluteFilePath(database);
        return QStringLiteral("sqlite://") + abs;
    }
    return postgresUrl(*this, password.isEmpty() ? QString() : QStringLiteral("***"));
}

} // namespace outbox
