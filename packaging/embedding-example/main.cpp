// SPDX-License-Identifier: MIT
// A small order service: it records an order in its own table and the matching event in the outbox, in
// one transaction. Either both are there after the commit, or neither. With --relay it then delivers what
// is pending, as its own relayer would, to a local receiver, and reads the outbox's counts back: the
// public API end to end (enqueue, Relayer, Receiver, Storage) through the installed shared library.
//   order-service DATABASE_FILE [--fail | --relay]     (--fail rolls the transaction back after the enqueue)

#include <outbox/receiver.h>
#include <outbox/relayer.h>
#include <outbox/sendevent.h>
#include <outbox/storage.h>

#include <QCoreApplication>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

#include <cstdio>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: order-service DATABASE_FILE [--fail]\n");
        return 2;
    }
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"));
    db.setDatabaseName(args.at(1));
    if (!db.open()) {
        std::fprintf(stderr, "order-service: %s\n", qPrintable(db.lastError().text()));
        return 1;
    }
    QSqlQuery(db).exec(
        QStringLiteral("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer TEXT, total REAL)"));

    db.transaction();
    QSqlQuery insert(db);
    insert.prepare(QStringLiteral("INSERT INTO orders (customer, total) VALUES (?, ?)"));
    insert.addBindValue(QStringLiteral("c-42"));
    insert.addBindValue(99.5);
    if (!insert.exec()) {
        db.rollback();
        std::fprintf(stderr, "order-service: %s\n", qPrintable(insert.lastError().text()));
        return 1;
    }
    const qint64 orderId = insert.lastInsertId().toLongLong();

    outbox::SendEventOptions options;
    options.subject = QStringLiteral("orders/%1").arg(orderId);
    const auto eventId = outbox::sendEventTransactional(db, QStringLiteral("com.example.order.created"),
        QStringLiteral("/order-service"), QJsonObject{{"order", orderId}, {"total", 99.5}}, options);
    if (!eventId.isOk() || args.contains(QStringLiteral("--fail"))) {
        db.rollback();
        std::fprintf(stderr, "order-service: rolled back%s%s\n", eventId.isOk() ? "" : ": ",
            eventId.isOk() ? "" : qPrintable(eventId.error().message()));
        return 1;
    }
    db.commit();
    std::printf("order %lld, event %s\n", orderId, qPrintable(*eventId));
    if (!args.contains(QStringLiteral("--relay")))
        return 0;

    outbox::Receiver receiver;
    if (const outbox::Error e = receiver.listen()) {
        std::fprintf(stderr, "order-service: %s\n", qPrintable(e.message()));
        return 1;
    }
    outbox::RelayerConfig config;
    config.targetUrl = receiver.url();
    outbox::Relayer relayer(db, config);
    int sent = 0;
    QObject::connect(&relayer, &outbox::Relayer::eventSent, [&sent] { ++sent; });
    const outbox::RelayOnceResult once = relayer.relayOnce();
    if (once.error) {
        std::fprintf(stderr, "order-service: %s\n", qPrintable(once.error.message()));
        return 1;
    }
    QCoreApplication::processEvents(); // the eventSent signals, queued from the relayer's thread
    auto storage =
        outbox::Storage::open(outbox::ConnectionSpec::fromDatabase(db), outbox::Storage::OpenMode::MustBeOutbox);
    if (!storage.isOk()) {
        std::fprintf(stderr, "order-service: %s\n", qPrintable(storage.error().message()));
        return 1;
    }
    const auto stats = (*storage)->stats();
    if (!stats.isOk()) {
        std::fprintf(stderr, "order-service: %s\n", qPrintable(stats.error().message()));
        return 1;
    }
    const QList<outbox::ReceivedEvent> received = receiver.events();
    std::printf("relayed %d, signalled %d, received %lld (%s), outbox: %lld sent, %lld pending\n", once.processed, sent,
        static_cast<long long>(received.size()), received.isEmpty() ? "" : qPrintable(received.constFirst().event.type),
        stats->sent, stats->pending);
    return 0;
}
