"""StreamField blocks shared by every page: one base StreamBlock, one template per block."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.contrib.table_block.blocks import TableBlock
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.images.blocks import ImageChooserBlock


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("Heading"), max_length=120)

    class Meta:
        icon = "title"
        template = "home/blocks/heading.html"


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("Image"))
    caption = blocks.CharBlock(label=_("Caption"), required=False, max_length=200)
    alt_text = blocks.CharBlock(
        label=_("Alternative text"), required=False, max_length=200, help_text=_("Describe the picture for screen readers.")
    )

    class Meta:
        icon = "image"
        template = "home/blocks/image.html"


class DocumentBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("Document"))
    label = blocks.CharBlock(label=_("Link text"), required=False, max_length=120)

    class Meta:
        icon = "doc-full"
        template = "home/blocks/document.html"


class TableRowBlock(blocks.StructBlock):
    cells = blocks.ListBlock(blocks.CharBlock(label=_("Cell"), max_length=200), label=_("Cells"))

    class Meta:
        icon = "list-ul"


class TranslatableTableBlock(blocks.StructBlock):
    """A table whose cells are plain text fields, so that wagtail-localize translates each cell (it leaves
    TableBlock cells untouched): the Chinese page holds Chinese cells, its English translation English ones."""

    caption = blocks.CharBlock(label=_("Caption"), required=False, max_length=200)
    header = blocks.ListBlock(blocks.CharBlock(label=_("Column heading"), max_length=200), label=_("Column headings"))
    rows = blocks.ListBlock(TableRowBlock(label=_("Row")), label=_("Rows"))

    class Meta:
        icon = "table"
        label = _("Table (translated cell by cell)")
        template = "home/blocks/translatable_table.html"


class BaseStreamBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        label=_("Paragraph"),
        features=["bold", "italic", "link", "ol", "ul", "document-link"],
        template="home/blocks/paragraph.html",
    )
    image = ImageBlock()
    document = DocumentBlock()
    table = TableBlock(label=_("Table"))
    translatable_table = TranslatableTableBlock()
