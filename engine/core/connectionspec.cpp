// SPDX-License-Identifier: MIT
#include "connectionspec.h"

#include "relayerconfig.h"
#include "configfiles.h"

#include <QFileInfo>

#include <QDir>
#include <QHash>
#include <QSqlDatabase>
#include <QUrl>
#include <QUrlQuery>

#include <algorithm>

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
        // libpq's multi-host form, postgresql://user@h1:5432,h2:5433/db: QUrl reads one host, so the list is
        // taken apart here and QUrl reads the rest with the first host in its place.
        QStringList hosts, ports;
        QString single = text;
        const qsizetype authorityStart = text.indexOf(QStringLiteral("://"));
        if (authorityStart > 0) {
            const qsizetype from = authorityStart + 3;
            qsizetype end = text.indexOf(QLatin1Char('/'), from);
            for (QChar stop : {QLatin1Char('?'), QLatin1Char('#')}) {
                const qsizetype at = text.indexOf(stop, from);
                if (at >= 0 && (end < 0 || at < end))
                    end = at;
            }
            if (end < 0)
                end = text.size();
            const QString authority = text.mid(from, end - from);
            const qsizetype at = authority.lastIndexOf(QLatin1Char('@'));
            const QString hostList = authority.mid(at + 1);
            if (hostList.contains(QLatin1Char(','))) {
                for (const QString &entry : hostList.split(QLatin1Char(','))) {
                    const QUrl one(QStringLiteral("postgresql://") + entry, QUrl::StrictMode);
                    if (entry.isEmpty() || !one.isValid() || one.host().isEmpty() || !one.userInfo().isEmpty()
                        || !one.path().isEmpty())
                        return Error(Error::InvalidArgument,
                            QStringLiteral("malformed PostgreSQL URL: '%1' in the host list is not host[:port]; use "
                                           "postgresql://user@host1:port1,host2:port2/database")
                                .arg(entry.left(80)));
                    hosts << one.host(); // an IPv6 address without its brackets, as libpq takes it
                    ports << QString::number(one.port(5432));
                }
                single =
                    text.left(from) + authority.left(at + 1) + hostList.section(QLatin1Char(','), 0, 0) + text.mid(end);
            }
        }
        const QUrl parsed(single, QUrl::StrictMode);
        if (!parsed.isValid() || parsed.host().isEmpty())
            return Error(Error::InvalidArgument,
                QStringLiteral("malformed PostgreSQL URL: use postgresql://user:password@host:port/database"));
        ConnectionSpec spec;
        spec.backend = Backend::Postgresql;
        spec.host = parsed.host();
        spec.port = parsed.port(5432);
        if (!hosts.isEmpty()) { // libpq tries them in order (target_session_attrs picks among them)
            spec.host = hosts.join(QLatin1Char(','));
            spec.port = -1;
        }
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
        if (!ports.isEmpty()) // one port for each host, in libpq's list form
            options.prepend(QStringLiteral("port='%1'").arg(ports.join(QLatin1Char(','))));
        spec.options = options.join(QLatin1Char(';'));
        return spec;
    }
    if (scheme == QLatin1String("mysql") || scheme == QLatin1String("mariadb")) {
        const QUrl parsed(text, QUrl::StrictMode);
        if (!parsed.isValid() || parsed.host().isEmpty())
            return Error(Error::InvalidArgument,
                QStringLiteral("malformed MySQL/MariaDB URL: use mysql://user:password@host:port/database"));
        ConnectionSpec spec;
        spec.backend = Backend::Mysql;
        spec.host = parsed.host();
        spec.port = parsed.port(3306);
        spec.user = parsed.userName();
        spec.password = parsed.password();
        spec.database = parsed.path().mid(1);
        if (spec.database.isEmpty())
            return Error(Error::InvalidArgument, QStringLiteral("malformed MySQL/MariaDB URL: no database name"));
        // Qt's MySQL driver options, by their URL names. TLS and timeouts the user asks for are honoured;
        // unknown parameters are refused.
        static const QList<QPair<QString, QString>> known = {
            {QStringLiteral("connect_timeout"), QStringLiteral("MYSQL_OPT_CONNECT_TIMEOUT")},
            {QStringLiteral("read_timeout"), QStringLiteral("MYSQL_OPT_READ_TIMEOUT")},
            {QStringLiteral("write_timeout"), QStringLiteral("MYSQL_OPT_WRITE_TIMEOUT")},
            {QStringLiteral("ssl_ca"), QStringLiteral("SSL_CA")},
            {QStringLiteral("ssl_cert"), QStringLiteral("SSL_CERT")},
            {QStringLiteral("ssl_key"), QStringLiteral("SSL_KEY")},
            {QStringLiteral("unix_socket"), QStringLiteral("UNIX_SOCKET")},
        };
        QStringList options;
        bool timeout = false;
        for (const auto &item : QUrlQuery(parsed).queryItems(QUrl::FullyDecoded)) {
            const QString &key = item.first;
            const QString &value = item.second;
            const auto it = std::find_if(known.begin(), known.end(), [&](const auto &k) { return k.first == key; });
            if (it == known.end()) {
                QStringList names;
                for (const auto &k : known)
                    names << k.first;
                return Error(Error::InvalidArgument,
                    QStringLiteral("unknown MySQL/MariaDB URL parameter '%1': use %2")
                        .arg(key.left(40), names.join(QStringLiteral(", "))));
            }
            if (value.contains(QLatin1Char(';')))
                return Error(Error::InvalidArgument,
                    QStringLiteral("the MySQL/MariaDB URL parameter '%1' must not contain ';'").arg(key));
            // A TLS file that cannot be read must not quietly become a connection without it.
            if (key.startsWith(QLatin1String("ssl_"))) {
                if (!QFileInfo(value).isFile() || !QFileInfo(value).isReadable())
                    return Error(Error::InvalidArgument,
                        QStringLiteral("the %1 file '%2' of the MySQL/MariaDB URL cannot be read").arg(key, value));
                if (key == QLatin1String("ssl_key"))
                    if (const QString problem = secretFileProblem(value, QStringLiteral("ssl_key file"));
                        !problem.isEmpty())
                        return Error(Error::InvalidArgument, problem);
            }
            options << QStringLiteral("%1=%2").arg(it->second, value);
            timeout = timeout || key == QLatin1String("connect_timeout");
        }
        if (!timeout)
            options.prepend(QStringLiteral("MYSQL_OPT_CONNECT_TIMEOUT=5"));
        spec.options = options.join(QLatin1Char(';'));
        return spec;
    }
    return Error(Error::InvalidArgument,
        QStringLiteral("unknown database URL scheme '%1': use sqlite:, postgresql: or mysql:").arg(scheme));
}

ConnectionSpec ConnectionSpec::fromDatabase(const QSqlDatabase &db)
{
    ConnectionSpec spec;
    const QString driver = db.driverName();
    if (driver == QLatin1String("QSQLITE")) {
        spec.backend = Backend::Sqlite;
    } else if (driver == QLatin1String("QPSQL")) {
        spec.backend = Backend::Postgresql;
    } else if (driver == QLatin1String("QMYSQL") || driver == QLatin1String("QMARIADB")) {
        spec.backend = Backend::Mysql;
    } else {
        spec.backend = Backend::Other;
        spec.otherDriver = driver;
    }
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
    switch (backend) {
    case Backend::Sqlite:
        return QStringLiteral("QSQLITE");
    case Backend::Postgresql:
        return QStringLiteral("QPSQL");
    case Backend::Mysql:
        return QStringLiteral("QMYSQL");
    case Backend::Other:
        break;
    }
    return otherDriver;
}

// A server's URL with the given text in the password's place (empty: no password).
static QString serverUrl(const ConnectionSpec &spec, const QString &password)
{
    QUrl url;
    url.setScheme(
        spec.backend == ConnectionSpec::Backend::Mysql ? QStringLiteral("mysql") : QStringLiteral("postgresql"));
    // Several hosts (PostgreSQL): the first stands in for QUrl, and the list takes its place at the end.
    const QStringList hosts = spec.host.split(QLatin1Char(','));
    QStringList ports;
    url.setHost(hosts.first());
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
        QString key = option.left(eq);
        if (spec.backend == ConnectionSpec::Backend::Mysql) { // back to the URL's names
            static const QHash<QString, QString> names = {
                {QStringLiteral("MYSQL_OPT_CONNECT_TIMEOUT"), QStringLiteral("connect_timeout")},
                {QStringLiteral("MYSQL_OPT_READ_TIMEOUT"), QStringLiteral("read_timeout")},
                {QStringLiteral("MYSQL_OPT_WRITE_TIMEOUT"), QStringLiteral("write_timeout")},
                {QStringLiteral("SSL_CA"), QStringLiteral("ssl_ca")},
                {QStringLiteral("SSL_CERT"), QStringLiteral("ssl_cert")},
                {QStringLiteral("SSL_KEY"), QStringLiteral("ssl_key")},
                {QStringLiteral("UNIX_SOCKET"), QStringLiteral("unix_socket")}};
            if (option == QLatin1String("MYSQL_OPT_CONNECT_TIMEOUT=5"))
                continue;
            key = names.value(key, key);
        }
        if (key == QLatin1String("port") && hosts.size() > 1) {
            ports = value.split(QLatin1Char(','));
            continue;
        }
        if (option != QLatin1String("connect_timeout=5"))
            query.addQueryItem(key, QString::fromUtf8(QUrl::toPercentEncoding(value)));
    }
    if (!query.isEmpty())
        url.setQuery(query);
    QString text = url.toString(query.isEmpty() ? QUrl::PrettyDecoded : QUrl::FullyEncoded);
    if (hosts.size() > 1) {
        QStringList list;
        for (qsizetype i = 0; i < hosts.size(); ++i) {
            const QString port = ports.value(i, ports.size() == 1 ? ports.first() : QString());
            const QString host = hosts.at(i).contains(QLatin1Char(':'))
                ? QLatin1Char('[') + hosts.at(i) + QLatin1Char(']')
                : hosts.at(i);
            list << (port.isEmpty() ? host : host + QLatin1Char(':') + port);
        }
        // The authority's host part (after any user info) up to the path.
        const qsizetype from = text.indexOf(QStringLiteral("://")) + 3;
        const qsizetype slash = text.indexOf(QLatin1Char('/'), from);
        const qsizetype at = text.left(slash).lastIndexOf(QLatin1Char('@'));
        const qsizetype hostStart = at >= from ? at + 1 : from;
        text.replace(hostStart, slash - hostStart, list.join(QLatin1Char(',')));
    }
    return text;
}

QString ConnectionSpec::toUrl() const
{
    if (backend == Backend::Other)
        return displayUrl();
    return backend == Backend::Sqlite ? displayUrl() : serverUrl(*this, password);
}

QString ConnectionSpec::displayUrl() const
{
    if (backend == Backend::Sqlite) {
        const QString abs = QDir::isAbsolutePath(database) ? database : QDir::current().absoluteFilePath(database);
        return QStringLiteral("sqlite://") + abs;
    }
    if (backend == Backend::Other)
        return QStringLiteral("%1 (Qt driver %2)").arg(database, otherDriver);
    return serverUrl(*this, password.isEmpty() ? QString() : QStringLiteral("***"));
}

} // namespace outbox
