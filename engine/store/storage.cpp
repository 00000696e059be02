// SPDX-License-Identifier: MIT
// Storage's static side: opening (with the read-only probe first), the schema, and an application's enqueue.
// Everything that differs per database is in the dialects (dialect_*.cpp) and their SQL files (engine/store/sql/).
#include "storage.h"

#include "dialect.h"
#include "romancystorage.h"
#include "sqlstorage.h"
#include "failuregroups.h"
#include "storagedetail.h"

#include <QAtomicInteger>
#include <QCoreApplication>
#include <QHash>
#include <QRegularExpression>
#include <QSysInfo>
#include <QFileInfo>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>

#include <algorithm>

#include <unistd.h>

Q_LOGGING_CATEGORY(lcStorage, "outbox.storage", QtCriticalMsg)

namespace outbox {

using detail::ConnectionCache;
using detail::Dialect;

namespace {

// The schema version this program writes: each dialect has migrate-1.sql .. migrate-N.sql.
constexpr int kSchemaVersion = 10;

QAtomicInteger<quint64> g_connectionCounter;

Error unsupportedDriver(const QString &driver)
{
    QStringList known;
    for (const Dialect *d : Dialect::all())
        known << d->driverName();
    return Error(Error::Unsupported,
        QStringLiteral("the Qt SQL driver '%1' is not one the outbox runs on (%2)")
            .arg(driver, known.join(QStringLiteral(", "))));
}

// The dialect of the database at spec, when the outbox runs on it and Qt's driver for it is installed.
Result<const Dialect *> dialectFor(const ConnectionSpec &spec)
{
    const Dialect *d = Dialect::forDriver(spec.driver);
    if (!d)
        return unsupportedDriver(spec.driver);
    if (!QSqlDatabase::isDriverAvailable(spec.driver))
        return Error(Error::Unsupported, QStringLiteral("the Qt SQL driver %1 is not installed").arg(spec.driver));
    return d;
}

// A connection, opened and set up; `forWrites` false: nothing is written yet (SQLite: no WAL switch).
Error openConnection(QSqlDatabase &db, const Dialect &d, const ConnectionSpec &spec, bool forWrites)
{
    d.configure(db, spec);
    if (!db.open())
        return d.connectError(spec, db.lastError());
    return d.setUpSession(db, spec, forWrites);
}

// What the database holds, by reading only.
Result<ProbeResult> probeConnection(QSqlDatabase &db, const Dialect &d, const ConnectionSpec &spec)
{
    ProbeResult r;
    QSqlQuery q(db);
    if (!q.exec(d.sql(QStringLiteral("probe-tables"))))
        return Error(
            Error::Database, QStringLiteral("cannot read '%1': %2").arg(d.where(spec), d.errorText(q.lastError())));
    while (q.next())
        r.tables << q.value(0).toString();
    q.finish();
    if (r.tables.contains(QLatin1String("outbox_schema"))) {
        r.kind = ProbeResult::Kind::Outbox;
        if (q.exec(d.sql(QStringLiteral("schema-version"))) && q.next())
            r.schemaVersion = q.value(0).toInt();
        return r;
    }
    if (!r.tables.contains(QLatin1String("outbox_events"))) {
        r.kind = ProbeResult::Kind::Empty;
        return r;
    }
    QSqlQuery c(db);
    c.prepare(d.sql(QStringLiteral("probe-columns")));
    c.addBindValue(QStringLiteral("outbox_events"));
    if (c.exec()) {
        while (c.next())
            r.columns << c.value(0).toString();
    }
    // The unified schema of romancy (Go) and edda (Python): the seed system's own outbox.
    const QStringList romancy = {QStringLiteral("event_id"), QStringLiteral("event_type"),
        QStringLiteral("event_source"), QStringLiteral("event_data"), QStringLiteral("status"),
        QStringLiteral("retry_count"), QStringLiteral("created_at")};
    const bool isRomancy =
        std::all_of(romancy.begin(), romancy.end(), [&](const QString &col) { return r.columns.contains(col); });
    r.kind = isRomancy ? ProbeResult::Kind::Foreign : ProbeResult::Kind::Other;
    if (isRomancy)
        r.format = QStringLiteral("romancy/edda outbox_events");
    return r;
}

// Empty when the probe found this engine's outbox; otherwise the refusal, naming what was found.
Error refusal(const ProbeResult &r, const QString &where)
{
    switch (r.kind) {
    case ProbeResult::Kind::Outbox:
        return {};
    case ProbeResult::Kind::Foreign:
        return Error(Error::Unsupported,
            QStringLiteral("'%1' holds a %2 table, not this engine's outbox; refused, nothing was changed")
                .arg(where, r.format));
    case ProbeResult::Kind::Other:
        return Error(Error::InvalidArgument,
            QStringLiteral("'%1' has a table outbox_events that is not this engine's outbox (columns: %2); "
                           "refused, nothing was changed")
                .arg(where, r.columns.join(QStringLiteral(", ")).left(400)));
    case ProbeResult::Kind::Missing:
    case ProbeResult::Kind::Empty:
        break;
    }
    const QString found = r.tables.isEmpty()
        ? QStringLiteral("no tables")
        : QStringLiteral("tables: %1").arg(r.tables.join(QStringLiteral(", ")).left(300));
    return Error(Error::InvalidArgument,
        QStringLiteral("'%1' is a database but not an outbox (%2); nothing was changed "
                       "(create an outbox with 'outboxctl init')")
            .arg(where, found));
}

// Refuses what is not a database file before a driver would create one.
Error checkFile(const ConnectionSpec &spec, Storage::OpenMode mode)
{
    const QFileInfo file(spec.database);
    if ((mode == Storage::OpenMode::MustExist || mode == Storage::OpenMode::AnyOutbox
            || mode == Storage::OpenMode::ReadOnly)
        && !file.exists())
        return Error(Error::NotFound,
            QStringLiteral("no outbox at '%1': no such file (create one with 'outboxctl init')").arg(spec.database));
    if (file.exists() && file.isDir())
        return Error(
            Error::InvalidArgument, QStringLiteral("'%1' is a directory, not a database file").arg(spec.database));
    if (mode == Storage::OpenMode::MustBeOutbox && !file.exists())
        return Error(Error::NotFound, QStringLiteral("no such file: '%1'").arg(spec.database));
    return {};
}

const Dialect *dialectOf(const QSqlDatabase &db, Error *error)
{
    const Dialect *d = Dialect::forDriver(db.driverName());
    if (!d)
        *error = unsupportedDriver(db.driverName());
    return d;
}

} // namespace

class StoragePrivate
{
public:
    QString actor;
};

Storage::Storage() : d(std::make_unique<StoragePrivate>())
{
    QString user = qEnvironmentVariable("USER");
    if (user.isEmpty())
        user = qEnvironmentVariable("LOGNAME");
    if (user.isEmpty())
        user = QStringLiteral("uid%1").arg(::getuid());
    // The program's file name, not its application name (outboxctl shares the console's, for its settings).
    const QString program =
        QCoreApplication::instance() ? QFileInfo(QCoreApplication::applicationFilePath()).fileName() : QString();
    setActor(QStringLiteral("%1@%2").arg(user, QSysInfo::machineHostName())
        + (program.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(program)));
}

Storage::~Storage() = default;

void Storage::setActor(const QString &actor)
{
    d->actor = actor.left(255);
}

QString Storage::actor() const
{
    return d->actor;
}

std::optional<Result<qint64>> detail::scanWholeIdFirst(Storage &storage, const EventFilter &filter, SortOrder order,
    int chunk, const std::function<bool(const QList<qint64> &)> &sink)
{
    if (filter.find.isEmpty() || !filter.id.isEmpty())
        return std::nullopt;
    EventFilter exact = filter;
    exact.find.clear();
    exact.id = filter.find;
    auto found = storage.scanSequences(exact, order, chunk, sink);
    if (!found.isOk() || found.value() > 0)
        return found;
    return std::nullopt;
}

QString detail::likePrefix(const QString &text)
{
    QString prefix = text;
    prefix.replace(QLatin1Char('!'), QStringLiteral("!!"))
        .replace(QLatin1Char('%'), QStringLiteral("!%"))
        .replace(QLatin1Char('_'), QStringLiteral("!_"));
    return prefix + QLatin1Char('%');
}

Result<std::unique_ptr<Storage>> Storage::open(const ConnectionSpec &spec, OpenMode mode)
{
    auto dialect = dialectFor(spec);
    if (!dialect.isOk())
        return dialect.error();
    const Dialect *d = *dialect;
    if (d->has(Capability::LocalFile)) {
        if (Error e = checkFile(spec, mode))
            return e;
    }

    const QString name = QStringLiteral("outbox-storage-%1").arg(g_connectionCounter.fetchAndAddRelaxed(1));
    QSqlDatabase::addDatabase(spec.driver, name);
    // Owns the connection from here on, so every early return closes and removes it.
    auto connection = std::make_unique<detail::SqlConnection>(spec, name, *d);
    {
        QSqlDatabase db = connection->database();
        if (Error e = openConnection(db, *d, spec, false))
            return e;
        // A read-only look first: a database that does not hold this engine's outbox is refused before
        // anything is written to it (no tables, no WAL switch), and it is left byte for byte as it was. Even
        // CreateIfMissing creates nothing beside a table outbox_events of another layout.
        auto found = probeConnection(db, *d, spec);
        if (!found.isOk())
            return found.error();
        if ((mode == OpenMode::AnyOutbox || mode == OpenMode::ReadOnly) && found->kind == ProbeResult::Kind::Foreign) {
            // Opened as it is: no migration, no WAL switch, nothing written but operators' actions.
            if (d->has(Capability::LocalFile))
                connection->setFileIdentity(detail::fileIdentity(spec.database));
            return std::unique_ptr<Storage>(
                std::make_unique<detail::RomancyStorage>(std::move(connection), found->format, found->columns));
        }
        const bool creatable = found->kind == ProbeResult::Kind::Empty || found->kind == ProbeResult::Kind::Missing;
        if (!(mode == OpenMode::CreateIfMissing && creatable)) {
            if (Error e = refusal(*found, d->where(spec)))
                return e;
        }
        if (mode == OpenMode::ReadOnly) {
            // Nothing written on opening; an older schema would need an upgrade, which is a write.
            if (found->schemaVersion > kSchemaVersion)
                return Dialect::newerSchemaError(found->schemaVersion);
            if (found->schemaVersion < kSchemaVersion)
                return Error(Error::Unsupported,
                    QStringLiteral("'%1' holds an outbox at schema version %2, which this program (version %3) would "
                                   "upgrade on opening; read-only opening does not, and nothing was changed (open it "
                                   "once without read-only to upgrade it)")
                        .arg(d->where(spec))
                        .arg(found->schemaVersion)
                        .arg(kSchemaVersion));
        } else {
            if (Error e = d->prepareForWrites(db, spec))
                return e;
            if (Error e = migrate(db))
                return e;
        }
        // An application's enqueue on this connection need not look at the schema again (a read at the start
        // of a write transaction is what makes SQLite refuse the write under contention).
        detail::setSchemaChecked(db);
    }
    if (d->has(Capability::LocalFile))
        connection->setFileIdentity(detail::fileIdentity(spec.database));
    return std::unique_ptr<Storage>(std::make_unique<detail::SqlStorage>(std::move(connection)));
}

Result<ProbeResult> Storage::probe(const ConnectionSpec &spec)
{
    auto dialect = dialectFor(spec);
    if (!dialect.isOk())
        return dialect.error();
    const Dialect *d = *dialect;
    if (d->has(Capability::LocalFile)) {
        if (!QFileInfo::exists(spec.database)) {
            ProbeResult r;
            r.kind = ProbeResult::Kind::Missing;
            return r;
        }
        if (Error e = checkFile(spec, OpenMode::MustBeOutbox))
            return e;
    }
    const QString name = QStringLiteral("outbox-probe-%1").arg(g_connectionCounter.fetchAndAddRelaxed(1));
    Result<ProbeResult> result = ProbeResult();
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(spec.driver, name);
        if (Error e = openConnection(db, *d, spec, false))
            result = e;
        else
            result = probeConnection(db, *d, spec);
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return result;
}

QString targetStateText(const TargetState &state, const QDateTime &now)
{
    if (state.isAvailable())
        return QStringLiteral("available");
    const qint64 downS = qMax<qint64>(0, state.unavailableSince.secsTo(now));
    const qint64 probeS = qMax<qint64>(0, now.secsTo(state.nextProbeAt));
    return QStringLiteral("unavailable since %1 (%2 s): %3; next probe in %4 s")
        .arg(state.unavailableSince.toString(Qt::ISODate), QString::number(downS), state.why, QString::number(probeS));
}

int Storage::schemaVersion()
{
    return kSchemaVersion;
}

Error Storage::beginWrite(QSqlDatabase &db)
{
    Error unknown;
    const Dialect *d = dialectOf(db, &unknown);
    if (!d)
        return unknown;
    QSqlQuery q(db);
    if (!q.exec(d->sql(QStringLiteral("begin-write"))))
        return Error(
            Error::Database, QStringLiteral("cannot begin a transaction: %1").arg(d->errorText(q.lastError())));
    return {};
}

Error Storage::migrate(QSqlDatabase &db)
{
    Error unknown;
    const Dialect *d = dialectOf(db, &unknown);
    if (!d)
        return unknown;
    // An application's connection to a database whose outbox_events is not ours (romancy's, say): refused
    // before the migration writes anything there.
    ConnectionSpec where;
    where.database = db.databaseName();
    where.host = db.hostName();
    auto found = probeConnection(db, *d, where);
    if (found.isOk() && (found->kind == ProbeResult::Kind::Foreign || found->kind == ProbeResult::Kind::Other))
        return refusal(*found, db.databaseName());
    return d->migrate(db);
}

void Storage::wakeOnCommit(const QSqlDatabase &db)
{
    if (const Dialect *d = Dialect::forDriver(db.driverName()))
        d->afterEnqueue(db);
}

bool detail::isSchemaChecked(const QSqlDatabase &db)
{
    return db.driver() && ConnectionCache::of(db)->checkedDatabase == db.databaseName();
}

void detail::setSchemaChecked(const QSqlDatabase &db)
{
    if (db.driver())
        ConnectionCache::of(db)->checkedDatabase = db.databaseName();
}

Error Storage::insertEvent(QSqlDatabase &db, const OutboxEvent &e)
{
    Error unknown;
    const Dialect *d = dialectOf(db, &unknown);
    if (!d)
        return unknown;
    ConnectionCache *cache = ConnectionCache::of(db);
    const qint64 createdMs = detail::toMs(e.createdAt);
    const QByteArray extensions =
        e.extensions.isEmpty() ? QByteArray() : QJsonDocument(e.extensions).toJson(QJsonDocument::Compact);
    QString why;
    // A statement prepared on an earlier handle (the connection was closed and opened again) is prepared
    // afresh.
    void *handle = detail::nativeHandle(db);
    const bool inTransaction = d->inTransaction(db);
    if (handle && cache->insertHandle != handle) {
        cache->inserts.clear();
        cache->insertHandle = handle;
        d->adoptConnection(db);
    }
    // A server connection: a cached statement may belong to a connection that was lost and opened again: on
    // failure, prepare afresh once and try again (a real error, such as a duplicate id, fails the same way
    // twice; in a transaction, the first failure aborts it and the second is refused, so nothing commits on
    // its own). A file database never retries (see Dialect::inTransaction).
    const int tries = d->has(Capability::ServerConnection) ? 2 : 1;
    bool duplicate = false;
    const QString statement = d->insertStatement(e.data.size());
    std::unique_ptr<QSqlQuery> &insert = cache->inserts[statement];
    for (int attempt = 0; attempt < tries; ++attempt) {
        if (!insert || attempt > 0) {
            insert = std::make_unique<QSqlQuery>(db);
            if (!insert->prepare(d->sql(statement))) {
                why = d->errorText(insert->lastError());
                insert.reset();
                break;
            }
        }
        QSqlQuery &q = *insert;
        const Dialect::NativeInsert native = d->insertNatively(q, e, createdMs, extensions);
        if (native.outcome == Dialect::NativeInsert::Outcome::Written)
            return {};
        if (native.outcome == Dialect::NativeInsert::Outcome::Failed) {
            why = native.why;
            duplicate = native.duplicate;
            break;
        }
        const QVariant created = d->time(createdMs);
        q.bindValue(0, e.id);
        q.bindValue(1, e.type);
        q.bindValue(2, e.source);
        q.bindValue(3, detail::textOrNull(e.subject));
        q.bindValue(4, detail::textOrNull(e.contentType));
        q.bindValue(5, e.data.isNull() ? QByteArray("") : e.data);
        q.bindValue(
            6, extensions.isNull() ? QVariant(QMetaType(QMetaType::QString)) : QVariant(QString::fromUtf8(extensions)));
        q.bindValue(7, detail::textOrNull(e.orderingKey));
        q.bindValue(8, created);
        q.bindValue(9, created);
        q.bindValue(10, detail::textOrNull(e.replayOf));
        if (q.exec()) {
            q.finish();
            return {};
        }
        why = d->errorText(q.lastError());
        duplicate = d->classify(q.lastError()) == Dialect::ErrorKind::DuplicateKey;
        q.finish();
    }
    if (inTransaction && !d->inTransaction(db))
        return Error(Error::Database,
            QStringLiteral("cannot write the event to the outbox: %1; the database rolled the whole transaction "
                           "back, so nothing of it was written (the transaction is gone: roll back and start again)")
                .arg(why));
    if (duplicate) // the only unique key an insert can violate is the id's
        return Error(Error::DuplicateId, QStringLiteral("an event with id '%1' is already in the outbox").arg(e.id));
    if (why.isEmpty())
        why = QStringLiteral("no answer from the database (connection lost?)");
    return Error(Error::Database, QStringLiteral("cannot write the event to the outbox: %1").arg(why));
}

QString detail::notificationChannel()
{
    return QStringLiteral("outbox_events");
}

QString relayerStateName(RelayerInfo::State state)
{
    switch (state) {
    case RelayerInfo::State::Alive:
        return QStringLiteral("alive");
    case RelayerInfo::State::Gone:
        return QStringLiteral("gone");
    case RelayerInfo::State::Unknown:
        return QStringLiteral("unknown");
    }
    return {};
}

QString createEventId()
{
    // RFC 9562 UUID version 7: 48 bits of Unix milliseconds, then version, variant and random bits.
    quint8 b[16];
    const quint64 ms = quint64(QDateTime::currentMSecsSinceEpoch());
    for (int i = 0; i < 6; ++i)
        b[i] = quint8(ms >> (40 - 8 * i));
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(b + 8), 2);
    const quint32 r = QRandomGenerator::system()->generate();
    b[6] = quint8(0x70 | (r & 0x0f));
    b[7] = quint8(r >> 8);
    b[8] = quint8(0x80 | (b[8] & 0x3f));
    return QUuid::fromRfc4122(QByteArrayView(reinterpret_cast<const char *>(b), 16)).toString(QUuid::WithoutBraces);
}

QString statusName(EventStatus status)
{
    switch (status) {
    case EventStatus::Pending:
        return QStringLiteral("pending");
    case EventStatus::Failed:
        return QStringLiteral("failed");
    case EventStatus::Sent:
        return QStringLiteral("sent");
    }
    return {};
}

bool parseStatus(const QString &name, EventStatus *status)
{
    if (name == QLatin1String("pending"))
        *status = EventStatus::Pending;
    else if (name == QLatin1String("failed"))
        *status = EventStatus::Failed;
    else if (name == QLatin1String("sent"))
        *status = EventStatus::Sent;
    else
        return false;
    return true;
}

QString outcomeName(Attempt::Outcome outcome)
{
    switch (outcome) {
    case Attempt::Outcome::Sent:
        return QStringLiteral("sent");
    case Attempt::Outcome::Retry:
        return QStringLiteral("retry");
    case Attempt::Outcome::Failed:
        return QStringLiteral("failed");
    case Attempt::Outcome::Operator:
        return QStringLiteral("operator");
    }
    return {};
}

Attempt::Outcome outcomeFromName(const QString &name)
{
    if (name == QLatin1String("retry"))
        return Attempt::Outcome::Retry;
    if (name == QLatin1String("failed"))
        return Attempt::Outcome::Failed;
    if (name == QLatin1String("operator"))
        return Attempt::Outcome::Operator;
    return Attempt::Outcome::Sent;
}

Result<QList<OutboxEvent>> Storage::takeFailed(const QString &, const QList<qint64> &, qint64, const QString &)
{
    return Error(Error::Unsupported,
        QStringLiteral("%1 outboxes are relayed by their own framework, not from here").arg(formatName()));
}

Result<Storage::LatestFailure> Storage::latestFailure()
{
    EventFilter failed;
    failed.status = EventStatus::Failed;
    auto last = listEvents(failed, PageRequest{PageRequest::Order::Descending, 0, 1, false});
    if (!last.isOk())
        return last.error();
    LatestFailure f;
    if (!last->isEmpty()) {
        f.event = last->first();
        f.at = f.event.createdAt;
    }
    return f;
}

Result<QList<DeliveryBucket>> Storage::deliveryHistory(const QDateTime &, int, qint64)
{
    return QList<DeliveryBucket>{};
}

Result<bool> Storage::resolveFailed(const QString &, const QString &)
{
    return Error(Error::Unsupported, QStringLiteral("%1 outboxes keep no operator entries").arg(formatName()));
}

} // namespace outbox
