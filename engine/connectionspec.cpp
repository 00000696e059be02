#include "connectionspec.h"

#include <QDir>
#include <QSqlDatabase>
#include <QUrl>

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
                             QStringLiteral("malformed SQLite URL '%1': use sqlite:///absolute/path.db or sqlite:relative/path.db").arg(text));
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
    return url.toString();
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
