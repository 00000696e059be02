// SPDX-License-Identifier: MIT
#pragma once

// What the benchmarks share: a relayer draining an outbox, timed; the median of runs.

#include "relayer.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QList>

#include <algorithm>

// Drains the outbox with a running relayer (Relayer::drainAsync) and returns the seconds it took; `result`
// gets what the drain said (its error, if any).
inline double timedDrain(outbox::Relayer &relayer, outbox::RelayOnceResult *result)
{
    QEventLoop loop;
    QElapsedTimer clock;
    clock.start();
    relayer.drainAsync([&](const outbox::RelayOnceResult &r) {
        *result = r;
        loop.quit();
    });
    loop.exec();
    return clock.nsecsElapsed() / 1e9;
}

inline double timedDrain(
    const outbox::ConnectionSpec &spec, const outbox::RelayerConfig &config, outbox::RelayOnceResult *result)
{
    outbox::Relayer relayer(spec, config);
    return timedDrain(relayer, result);
}

// The median of the runs' figures (0 for none).
inline double median(QList<double> v)
{
    std::sort(v.begin(), v.end());
    return v.isEmpty() ? 0 : v.at(v.size() / 2);
}
