// SPDX-License-Identifier: MIT
#pragma once

// What /proc says about a process, for the benchmarks and the soak.

#include <QDir>
#include <QFile>

namespace procstats {

// Resident memory in KiB of a process (0: this one); 0 when it cannot be read.
inline qint64 residentKiB(qint64 pid = 0)
{
    QFile f(pid > 0 ? QStringLiteral("/proc/%1/status").arg(pid) : QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong();
    }
    return 0;
}

// Open file descriptors of a process.
inline int openDescriptors(qint64 pid)
{
    return int(QDir(QStringLiteral("/proc/%1/fd").arg(pid))
                   .entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::System)
                   .size());
}

} // namespace procstats
