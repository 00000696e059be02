// SPDX-License-Identifier: MIT
#pragma once

#include <QLayout>
#include <QList>

namespace outbox::ui {

// Lays its widgets out left to right and starts a new line where the next one does not fit, so a row of
// fields or buttons never makes a window wider than its screen. On each line the room left over goes to the
// widgets that may grow (a horizontal size policy with the expand flag), the way a box layout shares it.
class FlowLayout : public QLayout
{
public:
    explicit FlowLayout(QWidget *parent = nullptr, int spacing = -1);
    ~FlowLayout() override;

    void addItem(QLayoutItem *item) override;
    int count() const override;
    QLayoutItem *itemAt(int index) const override;
    QLayoutItem *takeAt(int index) override;
    Qt::Orientations expandingDirections() const override;
    bool hasHeightForWidth() const override;
    int heightForWidth(int width) const override;
    QSize minimumSize() const override;
    QSize sizeHint() const override;
    void setGeometry(const QRect &rect) override;

private:
    // Places the items in `rect` (or only measures, when apply is false); returns the height used.
    int arrange(const QRect &rect, bool apply) const;
    int gap() const;

    QList<QLayoutItem *> m_items;
    int m_spacing;
};

// A label and its field as one widget, so a flow never puts them on different lines.
QWidget *labelled(const QString &label, QWidget *field, QWidget *parent);

} // namespace outbox::ui
