import QtQuick
import Weir.Workbench
import QtQuick.Controls
import QtQuick.Layouts

// The operator palette, generated from the engine's catalog (CatalogModel). Drag an entry
// onto the canvas, or double-click it (Enter) to add it in the middle of the view.
Rectangle {
    id: paletteRoot
    required property JobDocument doc
    /// An item above everything, where the dragged entry's ghost travels.
    required property Item dragLayer
    signal addRequested(string type)
    property alias filter: search.text
    function focusSearch() { search.forceActiveFocus(); search.selectAll() }

    color: Theme.panel

    CatalogModel { id: catalog; filter: search.text }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0
        Label {
            text: "Operators"
            font.bold: true
            color: Theme.text
            Layout.margins: 10
            Layout.bottomMargin: 6
        }
        TextField {
            id: search
            objectName: "paletteSearch"
            placeholderText: "Search  (Ctrl+F)"
            Layout.fillWidth: true
            Layout.leftMargin: 8
            Layout.rightMargin: 8
            selectByMouse: true
            Keys.onDownPressed: list.forceActiveFocus()
            Keys.onReturnPressed: if (catalog.count > 0) paletteRoot.addRequested(catalog.types()[0])
        }
        ListView {
            id: list
            objectName: "paletteList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.topMargin: 6
            clip: true
            model: catalog
            currentIndex: -1
            keyNavigationEnabled: true
            boundsBehavior: Flickable.StopAtBounds
            section.property: "categoryTitle"
            section.delegate: Label {
                required property string section
                text: section.toUpperCase()
                font.pixelSize: 10
                font.letterSpacing: 0.8
                color: Theme.textFaint
                leftPadding: 12
                topPadding: 10
                bottomPadding: 4
            }
            Keys.onReturnPressed: if (currentIndex >= 0) paletteRoot.addRequested(catalog.types()[currentIndex])
            delegate: Item {
                id: entry
                required property int index
                required property string type
                required property string title
                required property string category
                required property string doc
                objectName: "palette_" + type
                width: ListView.view.width
                height: 38

                Rectangle {
                    anchors.fill: parent
                    anchors.leftMargin: 6
                    anchors.rightMargin: 6
                    radius: 5
                    color: area.containsMouse || list.currentIndex === entry.index ? Theme.accentSoft : "transparent"
                    Rectangle {
                        x: 6; anchors.verticalCenter: parent.verticalCenter
                        width: 4; height: 22; radius: 2
                        color: Theme.categoryColor(entry.category)
                    }
                    Column {
                        x: 18; anchors.verticalCenter: parent.verticalCenter
                        width: parent.width - 24
                        Text { text: entry.title; font.pixelSize: 12; color: Theme.text; elide: Text.ElideRight; width: parent.width }
                        Text { text: entry.type; font.pixelSize: 10; font.family: Theme.monoFamily; color: Theme.textMuted }
                    }
                }

                Item {  // what travels while dragging
                    id: ghost
                    property string operatorType: entry.type
                    width: 150; height: 30
                    Drag.active: area.drag.active
                    Drag.keys: ["weir/operator"]
                    Drag.hotSpot.x: width / 2
                    Drag.hotSpot.y: height / 2
                    visible: area.drag.active
                    Rectangle {
                        anchors.fill: parent
                        radius: 5
                        color: Theme.node
                        border.color: Theme.accent
                        opacity: 0.9
                        Text { anchors.centerIn: parent; text: entry.title; font.pixelSize: 12; color: Theme.text }
                    }
                }

                MouseArea {
                    id: area
                    anchors.fill: parent
                    hoverEnabled: true
                    drag.target: ghost
                    drag.threshold: 4
                    cursorShape: drag.active ? Qt.ClosedHandCursor : Qt.PointingHandCursor
                    onPressed: (mouse) => {
                        list.currentIndex = entry.index
                        const p = entry.mapToItem(paletteRoot.dragLayer, mouse.x - ghost.width / 2, mouse.y - ghost.height / 2)
                        ghost.parent = paletteRoot.dragLayer
                        ghost.x = p.x; ghost.y = p.y
                    }
                    onReleased: {
                        if (drag.active) ghost.Drag.drop()
                        ghost.parent = entry
                        ghost.x = 0; ghost.y = 0
                    }
                    onCanceled: { ghost.parent = entry; ghost.x = 0; ghost.y = 0 }
                    onDoubleClicked: paletteRoot.addRequested(entry.type)
                    ToolTip.visible: containsMouse && !drag.active
                    ToolTip.delay: 600
                    ToolTip.text: entry.doc
                }
            }
        }
    }
}
