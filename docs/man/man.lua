-- man.lua - pandoc filter for the man pages (Makefile: make man).
-- A link becomes its text: a man page has no links, and the text names the file or page.
-- A table becomes a definition list, one entry per row: the first cell is the term, the
-- other cells its description, each after its column's heading when there are more than
-- two columns. Tables of tbl(1) columns would not fit a terminal's width; lists do.
-- A row whose first cell is empty continues the term of the row above.

function Link(el)
  return el.content
end

local function inlines_of(blocks)
  if #blocks == 1 and (blocks[1].t == "Plain" or blocks[1].t == "Para") then
    return blocks[1].content
  end
  return pandoc.List({ pandoc.Str(pandoc.utils.stringify(blocks)) })
end

local function row_entry(cells, headings, previous_term)
  local term = previous_term
  if pandoc.utils.stringify(cells[1].contents) ~= "" then
    term = inlines_of(cells[1].contents)
  end
  local desc = pandoc.List()
  for j = 2, #cells do
    local text = inlines_of(cells[j].contents)
    if pandoc.utils.stringify(cells[j].contents) ~= "" then
      if #desc > 0 then
        desc:extend({ pandoc.Str(";"), pandoc.Space() })
      end
      if #cells > 2 and headings[j] and #headings[j] > 0 then
        desc:insert(pandoc.Emph(headings[j]))
        desc:extend({ pandoc.Str(":"), pandoc.Space() })
      end
      desc:extend(text)
    end
  end
  return { term, { pandoc.Plain(desc) } }
end

function Table(el)
  local headings = {}
  if #el.head.rows > 0 then
    for j, cell in ipairs(el.head.rows[1].cells) do
      headings[j] = inlines_of(cell.contents)
    end
  end
  local items = {}
  local term = pandoc.List()
  for _, body in ipairs(el.bodies) do
    for _, row in ipairs(body.body) do
      local entry = row_entry(row.cells, headings, term)
      term = entry[1]
      table.insert(items, entry)
    end
  end
  return pandoc.DefinitionList(items)
end
