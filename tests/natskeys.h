// SPDX-License-Identifier: MIT
// NKeys for the NATS tests, made here with the openssl program: the users a nats-server is told to accept,
// and the JWTs and credentials files of a server in operator mode.
#pragma once

#include <QByteArray>
#include <QCryptographicHash>
#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
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

// A new NKey of this type (the public key's first letter: 'U' user, 'A' account, 'O' operator), made with the
// openssl program (an Ed25519 key): its seed (S and the type's letter...) and public key.
bool makeNkey(const QString &dir, char type, QByteArray *seed, QByteArray *publicKey)
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
    const char prefix = char((type - 'A') << 3), seedPrefix = char(18 << 3);
    *seed = nkeyText(QByteArray(1, char(seedPrefix | (quint8(prefix) >> 5))) + char((prefix & 31) << 3), rawSeed);
    *publicKey = nkeyText(QByteArray(1, prefix), rawPublic);
    // The private key is kept as <public key>.der, for natsJwt() to sign with.
    return rawSeed.size() == 32 && rawPublic.size() == 32 && publicKey->startsWith(type)
        && k.rename(dir + QLatin1Char('/') + QString::fromLatin1(*publicKey) + QStringLiteral(".der"));
}

// A new NKey user: its seed (SU...) and public key (U...).
bool makeNkeyUser(const QString &dir, QByteArray *seed, QByteArray *publicKey)
{
    return makeNkey(dir, 'U', seed, publicKey);
}

// A NATS JWT (as `nsc` makes them): the claims of `subject` with `nats` as its NATS part, issued and signed
// by the key made by makeNkey() in `dir` with this public key (signed by the openssl program: cnats signs with
// user keys only); empty when it cannot be signed.
QByteArray natsJwt(const QString &dir, const QByteArray &subject, const QJsonObject &nats, const QByteArray &issuer)
{
    constexpr auto url = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
    QJsonObject claims{{"iat", QDateTime::currentSecsSinceEpoch()}, {"iss", QString::fromLatin1(issuer)},
        {"sub", QString::fromLatin1(subject)}, {"name", QString::fromLatin1(subject.left(8))}, {"nats", nats}};
    claims.insert("jti",
        QString::fromLatin1(base32(QCryptographicHash::hash(
            QJsonDocument(claims).toJson(QJsonDocument::Compact), QCryptographicHash::Sha256))));
    const QByteArray signedPart = QByteArray(R"({"typ":"JWT","alg":"ed25519-nkey"})").toBase64(url) + '.'
        + QJsonDocument(claims).toJson(QJsonDocument::Compact).toBase64(url);
    const QString in = dir + QStringLiteral("/jwt.in"), out = dir + QStringLiteral("/jwt.sig");
    QFile message(in), signature(out);
    if (!message.open(QIODevice::WriteOnly) || message.write(signedPart) != signedPart.size())
        return {};
    message.close();
    if (QProcess::execute(QStringLiteral("openssl"),
            {QStringLiteral("pkeyutl"), QStringLiteral("-sign"), QStringLiteral("-rawin"), QStringLiteral("-keyform"),
                QStringLiteral("DER"), QStringLiteral("-inkey"),
                dir + QLatin1Char('/') + QString::fromLatin1(issuer) + QStringLiteral(".der"), QStringLiteral("-in"),
                in, QStringLiteral("-out"), out})
            != 0
        || !signature.open(QIODevice::ReadOnly))
        return {};
    return signedPart + '.' + signature.readAll().toBase64(url);
}

// A credentials file's text, as `nsc generate creds` writes it: the user's JWT and its seed.
QByteArray natsCreds(const QByteArray &jwt, const QByteArray &seed)
{
    return "-----BEGIN NATS USER JWT-----\n" + jwt
        + "\n------END NATS USER JWT------\n\n"
          "************************* IMPORTANT *************************\n"
          "NKEY Seed printed below can be used to sign and prove identity.\n"
          "NKEYs are sensitive and should be treated as secrets.\n\n"
          "-----BEGIN USER NKEY SEED-----\n"
        + seed + "\n------END USER NKEY SEED------\n\n*************************************************************\n";
}
} // namespace
