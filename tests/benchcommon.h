// SPDX-License-Identifier: MIT
// What outbox-bench's source files share (bench_outbox.cpp: the scenarios and main; bench_stock.cpp: the stock
// receivers): the directory of the outbox files, reporting a result, dying with a message, our receiver as a
// counting sink, a new outbox file, and the bare network loop the relay scenarios compare against.
#pragma once

#include "receiver.h"
#include "relayerconfig.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <QUrl>

#include <functional>

namespace bench {

extern QTemporaryDir *g_dir;
extern std::function<void()> g_atDeath; // undoes what outlives the process (the stock scenario's namespace)

// One result: kept for the table at the end, and printed as a line of JSON.
void report(QJsonObject o);
// Says why on stderr and ends the process with 1.
void die(const QString &message);
void listenCountingOnly(outbox::Receiver &receiver);
QString newOutbox();

// A rate, and the CPU time the whole process spent per event meanwhile (every thread, the receiver's too).
struct RelayRun
{
    double rate = 0;
    double cpuUsPerEvent = 0;
    double statementsPerBatch = 0;
};
RelayRun bareNetworkRate(const QUrl &target, outbox::ContentMode mode, int count, int concurrency);

void scenarioStock(int runs, bool quick, const QStringList &wanted, const QList<int> &sizes);

// The relayer's claim and write-back statements alone on a SQLite outbox of `count` pending events: events/s.
double databaseCeiling(int count, int batchSize);

} // namespace bench
