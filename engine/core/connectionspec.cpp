// SPDX-License-Identifier: MIT
#include "connectionspec.h"

#include "dialect.h"

#include <QSqlDatabase>

namespace outbox {

ConnectionSpec ConnectionSpec::sqlite(const QString &path)
{
    ConnectionSpec spec;
    spec.driver = QStringLiteral("QSQLITE");
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
    if (const detail::Dialect *d = detail::Dialect::forScheme(scheme))
        return d->specFromUrl(text);
    QStringList schemes;
    for (const detail::Dialect *d : detail::Dialect::all())
        schemes << d->urlSchemes().constFirst() + QLatin1Char(':');
    const QString last = schemes.takeLast();
    return Error(Error::InvalidArgument,
        QStringLiteral("unknown database URL scheme '%1': use %2 or %3")
            .arg(scheme, schemes.join(QStringLiteral(", ")), last));
}

ConnectionSpec ConnectionSpec::fromDatabase(const QSqlDatabase &db)
{
    ConnectionSpec spec;
    const detail::Dialect *d = detail::Dialect::forDriver(db.driverName());
    spec.driver = d ? d->driverName() : db.driverName();
    spec.database = db.databaseName();
    spec.host = db.hostName();
    spec.port = db.port();
    spec.user = db.userName();
    spec.password = db.password();
    spec.options = db.connectOptions();
    return spec;
}

bool ConnectionSpec::isFile() const
{
    const detail::Dialect *d = detail::Dialect::forDriver(driver);
    return d && d->has(Storage::Capability::LocalFile);
}

QString ConnectionSpec::toUrl() const
{
    const detail::Dialect *d = detail::Dialect::forDriver(driver);
    return d ? d->urlOf(*this, password) : displayUrl();
}

QString ConnectionSpec::displayUrl() const
{
    const detail::Dialect *d = detail::Dialect::forDriver(driver);
    if (!d)
        return QStringLiteral("%1 (Qt driver %2)").arg(database, driver);
    return d->urlOf(*this, password.isEmpty() ? QString() : QStringLiteral("***"));
}

} // namespace outbox
