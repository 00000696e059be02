// SPDX-License-Identifier: MIT
#pragma once

#include "outbox_export.h"

#include "error.h"

#include <QString>

class QSqlDatabase;

namespace outbox {

/// Where an outbox lives: parsed from a URL (`sqlite:///abs.db`, `sqlite:rel.db`,
/// `postgresql://user:pass@host:port/db`, `mysql://user:pass@host:port/db` or `mariadb://...`) or taken from an
/// application's QSqlDatabase. A relayer opens its own connection from it on its own thread. PostgreSQL's
/// multi-host form (`postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write`) keeps the
/// hosts as libpq's comma list in `host`, port -1, and the ports as libpq's `port` list in `options`.
struct OUTBOX_EXPORT ConnectionSpec
{
    /// The Qt SQL driver: QSQLITE, QPSQL or QMYSQL (QMARIADB is taken as QMYSQL). Another driver (an
    /// application's connection) is kept as given; Storage refuses it, naming it.
    QString driver = QStringLiteral("QSQLITE");
    QString database; ///< file path for SQLite, database name for the servers
    QString host;
    int port = -1;
    QString user;
    QString password;
    QString options; ///< driver connect options

    /// Parses an outbox URL (see above); the error says what is wrong with it.
    static Result<ConnectionSpec> fromUrl(const QString &url);
    /// Where an application's connection points (a relayer then opens a connection of its own there).
    static ConnectionSpec fromDatabase(const QSqlDatabase &db);
    /// A SQLite file.
    static ConnectionSpec sqlite(const QString &path);

    /// Whether the database is a file on this host (SQLite): `database` is its path.
    bool isFile() const;
    /// The URL with any password masked, for logs and window titles.
    QString displayUrl() const;
    /// The full URL, password included: for handing to another process, never for showing.
    QString toUrl() const;
};

} // namespace outbox
