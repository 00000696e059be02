// SPDX-License-Identifier: MIT
// NKeys for the NATS tests, made here with the openssl program: the users a nats-server is told to accept.
#pragma once

#include <QByteArray>
#include <QFile>
#include <QProcess>
#include <QString>

namespace {

// RFC 4648 base32 without padding, as NKeys are written.
QByteArray base32(const QByteArray &raw)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    QByteArray out;
    quint32 buffer = 0;
    int bits = 0;
    for (const char c : raw) {
        buffer = (buffer << 8) | quint8(c);
        bits += 8;
        while (bits >= 5) {
            out += alphabet[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out += alphabet[(buffer << (5 - bits)) & 31];
    return out;
}

// An NKey: its prefix byte(s), the 32 key bytes, then their CRC-16/XMODEM (little-endian), in base32.
QByteArray nkeyText(const QByteArray &prefix, const QByteArray &key)
{
    QByteArray raw = prefix + key;
    quint16 crc = 0;
    for (const char c : raw) {
        crc ^= quint16(quint8(c)) << 8;
        for (int i = 0; i < 8; ++i)
            crc = crc & 0x8000 ? quint16((crc << 1) ^ 0x1021) : quint16(crc << 1);
    }
    raw += char(crc & 0xff);
    raw += char(crc >> 8);
    return base32(raw);
}

// A new NKey user, made with the openssl program (an Ed25519 key): its seed (SU...) and public key (U...).
bool makeNkeyUser(const QString &dir, QByteArray *seed, QByteArray *publicKey)
{
    const QString key = dir + QStringLiteral("/nkey.der"), pub = dir + QStringLiteral("/nkey-pub.der");
    if (QProcess::execute(QStringLiteral("openssl"),
            {QStringLiteral("genpkey"), QStringLiteral("-algorithm"), QStringLiteral("ed25519"),
                QStringLiteral("-outform"), QStringLiteral("DER"), QStringLiteral("-out"), key})
            != 0
        || QProcess::execute(QStringLiteral("openssl"),
               {QStringLiteral("pkey"), QStringLiteral("-in"), key, QStringLiteral("-inform"), QStringLiteral("DER"),
                   QStringLiteral("-pubout"), QStringLiteral("-outform"), QStringLiteral("DER"), QStringLiteral("-out"),
                   pub})
            != 0)
        return false;
    QFile k(key), p(pub);
    if (!k.open(QIODevice::ReadOnly) || !p.open(QIODevice::ReadOnly))
        return false;
    const QByteArray rawSeed = k.readAll().right(32), rawPublic = p.readAll().right(32);
    const char user = char(20 << 3), seedPrefix = char(18 << 3);
    *seed = nkeyText(QByteArray(1, char(seedPrefix | (quint8(user) >> 5))) + char((user & 31) << 3), rawSeed);
    *publicKey = nkeyText(QByteArray(1, user), rawPublic);
    return rawSeed.size() == 32 && rawPublic.size() == 32;
}

} // namespace
