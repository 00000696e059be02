// SPDX-License-Identifier: MIT
// RomancyStorage's row numbers on servers: the table has no column that rises with insertion, so the process
// numbers the ids it sees, one numbering per database (see romancystorage.h).
#include "romancystorage.h"

#include <QMutex>
#include <QUuid>

#include <vector>

namespace outbox::detail {

// Ids in their canonical UUID form (what both frameworks write) are kept as 16 bytes; any other id as text.
struct RomancyStorage::IdNumbers
{
    mutable QMutex mutex;
    std::vector<QUuid> uuids; // index + 1 is the sequence; null for an id kept as text
    QHash<QUuid, qint64> uuidSequence;
    QHash<qint64, QString> otherIds;
    QHash<QString, qint64> otherSequence;

    // The UUID an id is the canonical text of, else a null one.
    static QUuid packed(const QString &id)
    {
        if (id.size() != 36)
            return {};
        const QUuid u = QUuid::fromString(id);
        return !u.isNull() && u.toString(QUuid::WithoutBraces) == id ? u : QUuid();
    }
};

// One numbering per database, for as long as a storage of it is open.
std::shared_ptr<RomancyStorage::IdNumbers> RomancyStorage::numbersFor(const ConnectionSpec &spec)
{
    static QMutex mutex;
    static QHash<QString, std::weak_ptr<RomancyStorage::IdNumbers>> all;
    const QString key = QStringLiteral("%1|%2|%3|%4").arg(spec.driver, spec.host).arg(spec.port).arg(spec.database);
    QMutexLocker lock(&mutex);
    std::shared_ptr<RomancyStorage::IdNumbers> numbers = all.value(key).lock();
    if (!numbers) {
        numbers = std::make_shared<RomancyStorage::IdNumbers>();
        all.insert(key, numbers);
    }
    return numbers;
}

QString RomancyStorage::idOf(qint64 sequence) const
{
    QMutexLocker lock(&m_numbers->mutex);
    if (sequence < 1 || sequence > qint64(m_numbers->uuids.size()))
        return {};
    const QUuid &u = m_numbers->uuids[size_t(sequence - 1)];
    return u.isNull() ? m_numbers->otherIds.value(sequence) : u.toString(QUuid::WithoutBraces);
}

qint64 RomancyStorage::numberOf(const QString &id)
{
    const QUuid u = IdNumbers::packed(id);
    QMutexLocker lock(&m_numbers->mutex);
    if (!u.isNull()) {
        auto it = m_numbers->uuidSequence.constFind(u);
        if (it != m_numbers->uuidSequence.constEnd())
            return it.value();
    } else {
        auto it = m_numbers->otherSequence.constFind(id);
        if (it != m_numbers->otherSequence.constEnd())
            return it.value();
    }
    m_numbers->uuids.push_back(u);
    const qint64 seq = qint64(m_numbers->uuids.size());
    if (!u.isNull()) {
        m_numbers->uuidSequence.insert(u, seq);
    } else {
        m_numbers->otherIds.insert(seq, id);
        m_numbers->otherSequence.insert(id, seq);
    }
    return seq;
}

qint64 RomancyStorage::numbered() const
{
    QMutexLocker lock(&m_numbers->mutex);
    return qint64(m_numbers->uuids.size());
}

} // namespace outbox::detail
