// SPDX-License-Identifier: MIT
#include "dialect.h"

#include "cloudevents.h"
#include "sqlstorage.h"
#include "jsonscan.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMutex>
#include <QRegularExpression>
#include <QSqlDriver>
#include <QSqlError>
#include <QUrl>
#include <QUrlQuery>
#include <QSqlQuery>

#include <algorithm>
#include <functional>
#include <mutex>

// The SQL files are a resource of the engine's objects; in a static link nothing else would reference them.
static void initSqlResources()
{
    Q_INIT_RESOURCE(outbox_sql);
}

namespace outbox::detail {

const Dialect *sqliteDialect();
const Dialect *postgresqlDialect();
const Dialect *mysqlDialect();

const Dialect *Dialect::forScheme(const QString &scheme)
{
    for (const Dialect *d : all()) {
        if (d->urlSchemes().contains(scheme))
            return d;
    }
    return nullptr;
}

QString Dialect::serverUrl(const ConnectionSpec &spec, const QString &password) const
{
    QUrl url;
    url.setScheme(urlSchemes().constFirst());
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
    // The connect options, by their URL names.
    QUrlQuery query;
    for (const QString &option : spec.options.split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
        const qsizetype eq = option.indexOf(QLatin1Char('='));
        QString value = option.mid(eq + 1);
        if (value.startsWith(QLatin1Char('\'')) && value.endsWith(QLatin1Char('\'')) && value.size() >= 2)
            value = value.mid(1, value.size() - 2)
                        .replace(QStringLiteral("\\'"), QStringLiteral("'"))
                        .replace(QStringLiteral("\\\\"), QStringLiteral("\\"));
        QString key = option.left(eq);
        if (option == connectTimeoutOption() + QStringLiteral("=5")) // our default, not shown
            continue;
        key = urlParameterName(key);
        if (key == QLatin1String("port") && hosts.size() > 1) {
            ports = value.split(QLatin1Char(','));
            continue;
        }
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

QList<const Dialect *> Dialect::all()
{
    return {sqliteDialect(), postgresqlDialect(), mysqlDialect()};
}

const Dialect *Dialect::forDriver(const QString &driverName)
{
    for (const Dialect *d : all()) {
        if (d->runsOn(driverName))
            return d;
    }
    return nullptr;
}

namespace {
const QString kSqlRoot = QStringLiteral(":/outbox/sql/");

// A file's text without its comment lines (lines starting with "--"), trimmed.
QString readSql(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QStringList kept;
    for (const QString &line : QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'))) {
        if (!line.trimmed().startsWith(QLatin1String("--")))
            kept.append(line);
    }
    return kept.join(QLatin1Char('\n')).trimmed();
}
} // namespace

const QHash<QString, QString> &Dialect::statements() const
{
    if (m_loaded)
        return m_statements;
    // Loaded once per process, at first use, under a lock (relayer lanes open connections on their threads).
    static QBasicMutex lock;
    const std::lock_guard<QBasicMutex> guard(lock);
    if (m_loaded)
        return m_statements;
    initSqlResources();
    QHash<QString, QString> raw;
    for (const QString &folder : {QStringLiteral("common"), name()}) {
        const QDir dir(kSqlRoot + folder);
        for (const QString &file : dir.entryList({QStringLiteral("*.sql")}, QDir::Files))
            raw.insert(file.chopped(4), readSql(dir.filePath(file))); // the dialect's own file wins
    }
    // Inline the statements named by {{name}} (fragments such as the column list), to any depth.
    static const QRegularExpression token(QStringLiteral("\\{\\{([a-z0-9-]+)\\}\\}"));
    std::function<QString(const QString &, int)> expand = [&](const QString &text, int depth) {
        QString out;
        qsizetype last = 0;
        for (auto it = token.globalMatch(text); it.hasNext();) {
            const auto m = it.next();
            out += text.mid(last, m.capturedStart() - last);
            const QString key = m.captured(1);
            if (raw.contains(key) && depth < 8)
                out += expand(raw.value(key), depth + 1);
            else
                out += m.captured(0);
            last = m.capturedEnd();
        }
        return out + text.mid(last);
    };
    for (auto it = raw.cbegin(); it != raw.cend(); ++it)
        m_statements.insert(it.key(), expand(it.value(), 0));
    m_loaded = true;
    return m_statements;
}

QString Dialect::sql(const QString &name) const
{
    return statements().value(name);
}

QStringList Dialect::statementNames() const
{
    QStringList names = statements().keys();
    names.sort();
    return names;
}

QStringList Dialect::migration(int version) const
{
    QStringList out;
    static const QRegularExpression end(QStringLiteral(";[ \\t]*\\n[ \\t]*\\n"));
    for (const QString &statement : sql(QStringLiteral("migrate-%1").arg(version)).split(end)) {
        QString s = statement.trimmed();
        if (s.endsWith(QLatin1Char(';')))
            s.chop(1);
        if (!s.isEmpty())
            out.append(s);
    }
    return out;
}

Error Dialect::setUpSession(QSqlDatabase &, const ConnectionSpec &, bool) const
{
    return {};
}

Error Dialect::prepareForWrites(QSqlDatabase &, const ConnectionSpec &) const
{
    return {};
}

QString Dialect::where(const ConnectionSpec &spec) const
{
    return spec.displayUrl();
}

QString Dialect::errorText(const QSqlError &e) const
{
    const QString db = e.databaseText().trimmed();
    return db.isEmpty() ? e.text().trimmed() : db;
}

Dialect::ErrorKind Dialect::classify(const QSqlError &) const
{
    return ErrorKind::Other;
}

Error Dialect::connectError(const ConnectionSpec &spec, const QSqlError &e) const
{
    const QString why = errorText(e).section(QLatin1Char('\n'), 0, 0);
    if (has(Storage::Capability::LocalFile))
        return Error(Error::Database, QStringLiteral("cannot open '%1': %2").arg(where(spec), why));
    return Error(classify(e) == ErrorKind::Unreachable ? Error::Network : Error::Database,
        QStringLiteral("cannot connect to %1: %2").arg(where(spec), why));
}

Error Dialect::databaseError(const QString &what, const QSqlError &e) const
{
    QString why = errorText(e);
    if (why.isEmpty())
        why = QStringLiteral("no answer from the database (connection lost?)");
    return Error(Error::Database, QStringLiteral("%1: %2").arg(what, why));
}

Error Dialect::readWritten(Query &update, QSet<qint64> *written) const
{
    if (written)
        written->clear();
    while (update.q().next()) {
        if (written)
            written->insert(update.q().value(0).toLongLong());
    }
    if (update.q().lastError().isValid()) {
        const Error e = databaseError(QStringLiteral("cannot write delivery results"), update.q().lastError());
        update.q().finish();
        if (written)
            written->clear();
        return e;
    }
    update.q().finish();
    return Error();
}

Error Dialect::newerSchemaError(int current)
{
    return Error(Error::Unsupported,
        QStringLiteral("the outbox schema is version %1, newer than this program understands (%2)")
            .arg(current)
            .arg(Storage::schemaVersion()));
}

QString Dialect::sqlLiteral(QString text)
{
    return QLatin1Char('\'') + text.replace(QLatin1Char('\''), QStringLiteral("''")) + QLatin1Char('\'');
}

QString Dialect::globToLike(const QString &glob)
{
    QString out;
    for (QChar c : glob) {
        if (c == QLatin1Char('\\') || c == QLatin1Char('%') || c == QLatin1Char('_'))
            out += QLatin1Char('\\') + QString(c);
        else if (c == QLatin1Char('*'))
            out += QLatin1Char('%');
        else
            out += c;
    }
    return out;
}

QString Dialect::globToSqliteGlob(const QString &glob)
{
    // SQLite's GLOB has no escape character; a one-character class stands for the character itself.
    QString out;
    for (QChar c : glob) {
        if (c == QLatin1Char('?') || c == QLatin1Char('['))
            out += QLatin1Char('[') + QString(c) + QLatin1Char(']');
        else
            out += c;
    }
    return out;
}

QString Dialect::patternCondition(const QStringList &patterns) const
{
    return sql(QStringLiteral("type-matches"))
        .replace(QLatin1String("{{patterns}}"),
            stringLiteral(
                QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(patterns)).toJson(QJsonDocument::Compact))));
}

QString Dialect::typeCondition(const QStringList &globs) const
{
    QStringList like;
    for (const QString &g : globs)
        like << globToLike(g);
    return patternCondition(like);
}

QDateTime Dialect::readTime(const QVariant &v) const
{
    if (v.isNull())
        return QDateTime();
    if (v.metaType().id() == QMetaType::QDateTime)
        return v.toDateTime().toUTC();
    return QDateTime::fromMSecsSinceEpoch(v.toLongLong(), Qt::UTC);
}

QVariant Dialect::jsonParameter(const QByteArray &json) const
{
    return QString::fromUtf8(json);
}

Error Dialect::applyMigrations(QSqlDatabase &db, int current) const
{
    QSqlQuery q(db);
    for (int version = current + 1; version <= Storage::schemaVersion(); ++version) {
        for (const QString &sql : migration(version)) {
            bool ok = true;
            if (sql == QLatin1String("bump schema_version")) {
                // SQLite's schema cookie raised by one: every connection reloads an edited table definition.
                ok = q.exec(QStringLiteral("PRAGMA schema_version")) && q.next();
                const qint64 cookie = ok ? q.value(0).toLongLong() : 0;
                q.finish();
                ok = ok && q.exec(QStringLiteral("PRAGMA schema_version = %1").arg(cookie + 1));
            } else {
                ok = q.exec(sql);
            }
            if (!ok)
                return databaseError(QStringLiteral("outbox schema migration %1 failed").arg(version), q.lastError());
        }
        q.prepare(sql(QStringLiteral("record-schema-version")));
        q.addBindValue(version);
        q.addBindValue(version);
        if (!q.exec())
            return databaseError(QStringLiteral("cannot record outbox schema version %1").arg(version), q.lastError());
    }
    return {};
}

Result<QList<OutboxEvent>> Dialect::claim(
    SqlConnection &connection, const QString &owner, int limit, qint64 leaseMs, const QString &types) const
{
    Query q(connection, sql(QStringLiteral("claim")).replace(QLatin1String("{{types}}"), types), Query::Reuse::Kept);
    q.bind(owner).bind(leaseMs).bind(leaseMs).bind(limit);
    if (Error e = q.exec(QStringLiteral("cannot claim events")))
        return e;
    QList<OutboxEvent> events;
    while (q.q().next())
        events.append(eventFromQuery(q.q(), *this));
    return inSequenceOrder(std::move(events));
}

Error Dialect::complete(
    SqlConnection &connection, const QString &owner, const QList<DeliveryRecord> &records, QSet<qint64> *written) const
{
    // At most two statements for the whole batch, whatever its size: the history of the attempts that did not
    // deliver (a delivered event keeps its attempt on its row), then the rows. Only rows this relayer still
    // holds are written; a lease that expired and was taken over is not overwritten. Both are kept prepared
    // where the dialect keeps statements; a batch delivered in full is one statement, atomic by itself, so it
    // runs without BEGIN and COMMIT (two round trips fewer on a database server).
    // A batch delivered with one answer (one request): its values bound once (complete-delivered-same.sql).
    if (deliveredWithOneAnswer(records)) {
        const DeliveryRecord &first = records.first();
        Query same(connection, sql(QStringLiteral("complete-delivered-same")), Query::Reuse::Kept);
        same.bind(QString::fromLatin1(sequenceList(records, '{', '}')))
            .bind(owner)
            .bind(toMs(first.attemptedAt))
            .bind(first.httpStatus > 0 ? QVariant(first.httpStatus) : QVariant(QMetaType::fromType<int>()))
            .bind(first.durationMs);
        if (Error e = same.exec(QStringLiteral("cannot write delivery results")))
            return e;
        return readWritten(same, written);
    }
    const QVariant json = jsonParameter(deliveryJson(records, true, false));
    Query update(connection, sql(QStringLiteral("complete-update")), Query::Reuse::Kept);
    update.bind(owner).bind(json).bind(owner);
    const auto writeRows = [&]() -> Error {
        if (Error e = update.exec(QStringLiteral("cannot write delivery results")))
            return e;
        return readWritten(update, written);
    };
    if (allDelivered(records))
        return writeRows();
    Query history(connection, sql(QStringLiteral("complete-history")), Query::Reuse::Kept);
    history.bind(owner).bind(json).bind(owner);
    return connection.inWriteTransaction(QStringLiteral("cannot write delivery results"), [&]() -> Error {
        if (Error e = history.exec(QStringLiteral("cannot record delivery attempts")))
            return e;
        return writeRows();
    });
}

Result<bool> Dialect::tryRelayerLock(SqlConnection &connection, qint64 key) const
{
    if (!has(Storage::Capability::SessionLocks))
        return Error(Error::Unsupported, QStringLiteral("this database has no session locks"));
    Query lock(connection, sql(QStringLiteral("try-relayer-lock")));
    lock.bind(key);
    if (Error e = lock.exec(QStringLiteral("cannot take a relayer's lock")))
        return e;
    return lock.q().next() && lock.q().value(0).toInt() == 1; // a boolean, or 1 for taken
}

Error Dialect::releaseRelayerLock(SqlConnection &connection, qint64 key) const
{
    if (!has(Storage::Capability::SessionLocks))
        return {};
    Query unlock(connection, sql(QStringLiteral("release-relayer-lock")));
    unlock.bind(key);
    return unlock.exec(QStringLiteral("cannot give up a relayer's lock"));
}

Error Dialect::releaseRelayerLocks(SqlConnection &connection) const
{
    if (!has(Storage::Capability::SessionLocks))
        return {};
    Query unlock(connection, sql(QStringLiteral("release-relayer-locks")));
    return unlock.exec(QStringLiteral("cannot give up the relayer's lock"));
}

Error Dialect::wakeRelayers(SqlConnection &connection) const
{
    if (!has(Storage::Capability::Notify))
        return {};
    Query notify(connection, sql(QStringLiteral("notify")));
    return notify.exec(QStringLiteral("cannot wake the relayers"));
}

void Dialect::configureServer(QSqlDatabase &db, const ConnectionSpec &spec, const QString &options)
{
    db.setDatabaseName(spec.database);
    db.setHostName(spec.host);
    db.setPort(spec.port);
    db.setUserName(spec.user);
    db.setPassword(spec.password);
    db.setConnectOptions(options);
}

bool Dialect::inTransaction(const QSqlDatabase &) const
{
    return false;
}

void Dialect::afterEnqueue(const QSqlDatabase &) const { }

void Dialect::adoptConnection(const QSqlDatabase &) const { }

ConnectionCache *ConnectionCache::of(const QSqlDatabase &db)
{
    static const QString name = QStringLiteral("outbox-connection-cache");
    QSqlDriver *driver = db.driver();
    auto *cache = static_cast<ConnectionCache *>(driver->findChild<QObject *>(name, Qt::FindDirectChildrenOnly));
    if (!cache) {
        cache = new ConnectionCache;
        cache->setObjectName(name);
        cache->setParent(driver);
    }
    return cache;
}

void *nativeHandle(const QSqlDatabase &db)
{
    if (!db.driver())
        return nullptr;
    const QVariant v = db.driver()->handle();
    // Every Qt driver hands out a pointer type ("sqlite3*", "PGconn*", "MYSQL*").
    if (!v.isValid() || !QByteArray(v.typeName()).endsWith('*'))
        return nullptr;
    return *static_cast<void *const *>(v.constData());
}

qint64 toMs(const QDateTime &t)
{
    return t.isValid() ? t.toMSecsSinceEpoch() : 0;
}

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

QVariant textOrNull(const QString &s)
{
    return s.isEmpty() ? QVariant(QMetaType(QMetaType::QString)) : QVariant(s);
}

OutboxEvent eventFromQuery(const QSqlQuery &q, const Dialect &dialect)
{
    OutboxEvent e;
    e.sequence = q.value(0).toLongLong();
    e.id = q.value(1).toString();
    e.type = q.value(2).toString();
    e.source = q.value(3).toString();
    e.subject = q.value(4).toString();
    e.contentType = q.value(5).toString();
    e.data = q.value(6).toByteArray();
    const QByteArray ext = q.value(7).toByteArray();
    if (!ext.isEmpty())
        e.extensions = QJsonDocument::fromJson(ext).object();
    e.orderingKey = q.value(8).toString();
    parseStatus(q.value(9).toString(), &e.status);
    e.attempts = q.value(10).toInt();
    e.nextAttemptAt = dialect.readTime(q.value(11));
    e.leaseOwner = q.value(12).toString();
    e.leaseExpiresAt = dialect.readTime(q.value(13));
    e.lastError = q.value(14).toString();
    e.lastHttpStatus = q.value(15).toInt();
    e.createdAt = dialect.readTime(q.value(16));
    e.sentAt = dialect.readTime(q.value(17));
    e.replayOf = q.value(18).toString();
    return e;
}

bool allDelivered(const QList<DeliveryRecord> &records)
{
    return std::all_of(records.begin(), records.end(), [](const DeliveryRecord &r) {
        return r.outcome == Attempt::Outcome::Sent && r.newStatus == EventStatus::Sent;
    });
}

bool deliveredWithOneAnswer(const QList<DeliveryRecord> &records)
{
    if (records.isEmpty() || !allDelivered(records))
        return false;
    const DeliveryRecord &first = records.first();
    return std::all_of(records.begin(), records.end(), [&](const DeliveryRecord &r) {
        return r.attemptedAt == first.attemptedAt && qMax(r.httpStatus, 0) == qMax(first.httpStatus, 0)
            && r.durationMs == first.durationMs;
    });
}

QByteArray sequenceList(const QList<DeliveryRecord> &records, char open, char close)
{
    QByteArray list(1, open);
    for (const DeliveryRecord &r : records) {
        if (list.size() > 1)
            list += ',';
        list += QByteArray::number(r.sequence);
    }
    return list + close;
}

QList<OutboxEvent> inSequenceOrder(QList<OutboxEvent> events)
{
    // Usually they come in order already (due order is mostly sequence order): checked first, it costs less
    // than sorting a hundred events does.
    const auto bySequence = [](const OutboxEvent &a, const OutboxEvent &b) { return a.sequence < b.sequence; };
    if (!std::is_sorted(events.cbegin(), events.cend(), bySequence))
        std::sort(events.begin(), events.end(), bySequence);
    return events;
}

// The results of a batch as one JSON array, written directly (this runs for every batch). Objects are read by
// name (PostgreSQL's jsonb_to_recordset); arrays by position, at about half SQLite's cost of looking up names.
QByteArray deliveryJson(const QList<DeliveryRecord> &records, bool objects, bool deliveredOnly)
{
    QByteArray json;
    json.reserve(records.size() * (deliveredOnly ? 24 : 96));
    json.append('[');
    // One field after the first: by name in an object; by position in an array, where a field that is
    // absent is written as null so that the ones after it keep their places.
    auto field = [&json, objects](const char *name, bool present, const QByteArray &value) {
        if (!present && objects)
            return;
        if (objects)
            json.append(",\"").append(name).append("\":");
        else
            json.append(',');
        json.append(present ? value : QByteArrayLiteral("null"));
    };
    auto text = [](const QString &s) { return '"' + s.toLatin1() + '"'; };
    for (const DeliveryRecord &r : records) {
        if (json.size() > 1)
            json.append(',');
        json.append(objects ? "{\"s\":" : "[").append(QByteArray::number(r.sequence));
        if (deliveredOnly) {
            field("h", r.httpStatus > 0, QByteArray::number(r.httpStatus));
            field("d", true, QByteArray::number(r.durationMs));
            json.append(']');
            continue;
        }
        const qint64 attempted = toMs(r.attemptedAt);
        field("t", true, text(statusName(r.newStatus)));
        field("o", true, text(outcomeName(r.outcome)));
        field("w", true, QByteArray::number(attempted));
        field("n", true, QByteArray::number(r.newStatus == EventStatus::Pending ? toMs(r.nextAttemptAt) : attempted));
        field("a", r.newStatus == EventStatus::Sent, QByteArray::number(attempted));
        field("h", r.httpStatus > 0, QByteArray::number(r.httpStatus));
        QByteArray error;
        if (!r.error.isEmpty())
            cloudevents::appendJsonString(error, r.error);
        field("e", !r.error.isEmpty(), error);
        field("d", true, QByteArray::number(r.durationMs));
        field("c", true, r.counted ? QByteArrayLiteral("1") : QByteArrayLiteral("0"));
        json.append(objects ? '}' : ']');
    }
    json.append(']');
    return json;
}

} // namespace outbox::detail
